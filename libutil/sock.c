/* libutil/sock.c: not written yet */
typedef int lm_stub_sock;
