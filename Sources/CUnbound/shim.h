#ifndef MXCHECK_CUNBOUND_SHIM_H
#define MXCHECK_CUNBOUND_SHIM_H
// libunbound (Debian libunbound-dev): its declarations only. CMXCheckShims/unbound_loader.c defines the entry
// points MXCheckCore calls and loads libunbound.so.8 with dlopen at the first ub_ctx_create.
#include <unbound.h>
#endif
