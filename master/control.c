/* master/control.c: not written yet */
typedef int lm_stub_control;
