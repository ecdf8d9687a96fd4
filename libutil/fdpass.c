/* libutil/fdpass.c: not written yet */
typedef int lm_stub_fdpass;
