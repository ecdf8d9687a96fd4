/* master/check.c: not written yet */
typedef int lm_stub_check;
