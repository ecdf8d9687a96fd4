/* master/outlog.c: not written yet */
typedef int lm_stub_outlog;
