/* crm/directory.h: the directory of principals, one text file.
 *
 * It maps a public key to who holds it: a name, a kind (service, staff,
 * subscriber, gateway), teams and roles. It holds public keys only, so it
 * may be shared with every process that needs the servers' keys. One line
 * per key, fields separated by blanks; a '#' standing alone as a word starts
 * a comment (keys may contain '#', never next to a blank):
 *
 *     # public-key                              name    kind        teams       roles
 *     Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID  sales   service     -           -
 *     rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7  ada     staff       north,emea  sales-rep
 *
 * Teams and roles are comma-separated lists, "-" for none. A name may hold
 * several keys (a key being rotated), always of one kind. Lines that start
 * with the word "role" define roles (crm/access.h):
 *
 *     role  sales-intern  *.read=own  person.create=own
 *
 * Every role a principal names must be built in or defined so. */
#ifndef CRM_DIRECTORY_H
#define CRM_DIRECTORY_H

#include <crm/curve.h>

#include <stddef.h>

typedef enum {
    CRM_KIND_SERVICE = 1,
    CRM_KIND_STAFF = 2,
    CRM_KIND_SUBSCRIBER = 4,
    CRM_KIND_GATEWAY = 8,
} crm_kind_t;

#define CRM_KIND_ANY (CRM_KIND_SERVICE | CRM_KIND_STAFF | CRM_KIND_SUBSCRIBER | CRM_KIND_GATEWAY)

typedef struct {
    char public_key[CRM_KEY_Z85_LEN + 1];
    const char *name;
    crm_kind_t kind;
    const char *const *teams; /* NULL-terminated */
    const char *const *roles; /* NULL-terminated */
} crm_principal_t;

typedef struct crm_directory crm_directory_t;

/* Reads the directory file at `path`. Returns NULL with a message in err
 * (naming the file and line) when it cannot be read or a line is wrong; a
 * directory is taken whole or not at all. Caller owns the result. */
crm_directory_t *crm_directory_load(const char *path, char *err, size_t errlen);
void crm_directory_destroy(crm_directory_t **self_p);

/* Lookups; NULL when absent. Results live as long as the directory. */
const crm_principal_t *crm_directory_by_key(const crm_directory_t *self, const char *z85);
/* The first entry of that name (the first key listed, for a server key). */
const crm_principal_t *crm_directory_by_name(const crm_directory_t *self, const char *name);
size_t crm_directory_size(const crm_directory_t *self);
/* Entry i < size, in file order. */
const crm_principal_t *crm_directory_at(const crm_directory_t *self, size_t i);

/* The roles: the built-in ones and those of the file's role lines. */
const struct crm_roles *crm_directory_roles(const crm_directory_t *self);

/* 1 when `p` has role `role` / is in team `team`. */
int crm_principal_has_role(const crm_principal_t *p, const char *role);
int crm_principal_in_team(const crm_principal_t *p, const char *team);

/* "service", "staff", "subscriber", "gateway". */
const char *crm_kind_name(crm_kind_t kind);

#endif
