/* master/spawn.c: not written yet */
typedef int lm_stub_spawn;
