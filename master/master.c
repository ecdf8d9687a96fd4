/* master/master.c: not written yet */
typedef int lm_stub_master;
