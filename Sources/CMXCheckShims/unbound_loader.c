// libunbound's entry points that MXCheckCore calls (CMXCheckShims_ plus libunbound's name), loaded with dlopen at the first ub_ctx_create (issue 13):
// a check that needs no DNS library (a literal address, or a host name through the system resolver) then never
// maps libunbound and the libraries it pulls in, nor binds their symbols at start.
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <unbound.h>
#include "CMXCheckShims.h"

static struct {
    struct ub_ctx *(*ctx_create)(void);
    void (*ctx_delete)(struct ub_ctx *);
    int (*ctx_set_option)(struct ub_ctx *, const char *, const char *);
    int (*ctx_set_fwd)(struct ub_ctx *, const char *);
    int (*ctx_resolvconf)(struct ub_ctx *, const char *);
    int (*ctx_add_ta_file)(struct ub_ctx *, const char *);
    int (*ctx_async)(struct ub_ctx *, int);
    int (*fd)(struct ub_ctx *);
    int (*process)(struct ub_ctx *);
    int (*resolve_async)(struct ub_ctx *, const char *, int, int, void *, ub_callback_type, int *);
    int (*cancel)(struct ub_ctx *, int);
    void (*resolve_free)(struct ub_result *);
    const char *(*strerror)(int);
} unbound;
static int unbound_loaded;
static pthread_once_t unbound_once = PTHREAD_ONCE_INIT;

static void load_unbound(void) {
    void *library = dlopen("libunbound.so.8", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return;
#define BIND(field, name) if ((*(void **)&unbound.field = dlsym(library, name)) == NULL) return
    BIND(ctx_create, "ub_ctx_create"); BIND(ctx_delete, "ub_ctx_delete");
    BIND(ctx_set_option, "ub_ctx_set_option"); BIND(ctx_set_fwd, "ub_ctx_set_fwd");
    BIND(ctx_resolvconf, "ub_ctx_resolvconf"); BIND(ctx_add_ta_file, "ub_ctx_add_ta_file");
    BIND(ctx_async, "ub_ctx_async"); BIND(fd, "ub_fd"); BIND(process, "ub_process");
    BIND(resolve_async, "ub_resolve_async"); BIND(cancel, "ub_cancel");
    BIND(resolve_free, "ub_resolve_free"); BIND(strerror, "ub_strerror");
#undef BIND
    unbound_loaded = 1;
}

// Every context comes from here; without the library there is none, and no other entry point is reached.
struct ub_ctx *CMXCheckShims_ub_ctx_create(void) {
    pthread_once(&unbound_once, load_unbound);
    return unbound_loaded ? unbound.ctx_create() : NULL;
}
void CMXCheckShims_ub_ctx_delete(struct ub_ctx *ctx) { unbound.ctx_delete(ctx); }
int CMXCheckShims_ub_ctx_set_option(struct ub_ctx *ctx, const char *opt, const char *val) { return unbound.ctx_set_option(ctx, opt, val); }
int CMXCheckShims_ub_ctx_set_fwd(struct ub_ctx *ctx, const char *addr) { return unbound.ctx_set_fwd(ctx, addr); }
int CMXCheckShims_ub_ctx_resolvconf(struct ub_ctx *ctx, const char *fname) { return unbound.ctx_resolvconf(ctx, fname); }
int CMXCheckShims_ub_ctx_add_ta_file(struct ub_ctx *ctx, const char *fname) { return unbound.ctx_add_ta_file(ctx, fname); }
int CMXCheckShims_ub_ctx_async(struct ub_ctx *ctx, int dothread) { return unbound.ctx_async(ctx, dothread); }
int CMXCheckShims_ub_fd(struct ub_ctx *ctx) { return unbound.fd(ctx); }
int CMXCheckShims_ub_process(struct ub_ctx *ctx) { return unbound.process(ctx); }
int CMXCheckShims_ub_resolve_async(struct ub_ctx *ctx, const char *name, int rrtype, int rrclass, void *mydata,
                     ub_callback_type callback, int *async_id) {
    return unbound.resolve_async(ctx, name, rrtype, rrclass, mydata, callback, async_id);
}
int CMXCheckShims_ub_cancel(struct ub_ctx *ctx, int async_id) { return unbound.cancel(ctx, async_id); }
void CMXCheckShims_ub_resolve_free(struct ub_result *result) { unbound.resolve_free(result); }
const char *CMXCheckShims_ub_strerror(int err) {
    pthread_once(&unbound_once, load_unbound);
    return unbound_loaded ? unbound.strerror(err) : "libunbound.so.8 could not be loaded";
}
