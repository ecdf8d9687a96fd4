/* master/env.c: not written yet */
typedef int lm_stub_env;
