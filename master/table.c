/* master/table.c: not written yet */
typedef int lm_stub_table;
