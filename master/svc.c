/* master/svc.c: not written yet */
typedef int lm_stub_svc;
