/* libutil/proto.c: not written yet */
typedef int lm_stub_proto;
