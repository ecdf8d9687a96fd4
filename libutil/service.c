/* libutil/service.c: not written yet */
typedef int lm_stub_service;
