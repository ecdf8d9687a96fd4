/* master/throttle.c: not written yet */
typedef int lm_stub_throttle;
