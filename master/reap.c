/* master/reap.c: not written yet */
typedef int lm_stub_reap;
