#ifndef MXCHECK_CUNBOUND_SHIM_H
#define MXCHECK_CUNBOUND_SHIM_H
// libunbound (Debian libunbound-dev), linked directly: its pkg-config file pulls in libevent's.
#include <unbound.h>
#endif
