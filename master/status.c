/* master/status.c: not written yet */
typedef int lm_stub_status;
