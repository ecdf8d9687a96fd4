/* master/wakeup.c: not written yet */
typedef int lm_stub_wakeup;
