/* master/config.c: not written yet */
typedef int lm_stub_config;
