/* master/avail.c: not written yet */
typedef int lm_stub_avail;
