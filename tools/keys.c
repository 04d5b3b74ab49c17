/* crm-keys: writes CurveZMQ keypairs for `make run`, compose and operators
 * until crmctl has its own `keys new` verb (it calls the same function).
 *
 *     crm-keys new NAME [--dir DIR]   writes DIR/NAME.key (0600) and DIR/NAME.pub
 *     crm-keys public FILE            prints the public key of a key file
 *
 * The secret key goes only to the file; the public key is printed, for the
 * directory of principals. */
#include <crm/curve.h>

#include <stdio.h>
#include <string.h>

static int s_usage(void)
{
    fprintf(stderr, "usage: crm-keys new NAME [--dir DIR]\n       crm-keys public FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    char err[600];
    if (argc == 3 && !strcmp(argv[1], "public")) {
        crm_keypair_t kp;
        if (crm_keypair_read(argv[2], 0, &kp, err, sizeof err) != 0) {
            fprintf(stderr, "crm-keys: %s\n", err);
            return 1;
        }
        printf("%s\n", kp.public_key);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "new") != 0)
        return s_usage();
    const char *dir = ".";
    if (argc == 5 && !strcmp(argv[3], "--dir"))
        dir = argv[4];
    else if (argc != 3)
        return s_usage();
    crm_keypair_t kp;
    if (crm_keypair_new(&kp) != 0) {
        fprintf(stderr, "crm-keys: libzmq was built without CURVE\n");
        return 1;
    }
    int rc = crm_keypair_write(&kp, dir, argv[2], err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "crm-keys: %s\n", err);
        return 1;
    }
    printf("%s\n", kp.public_key);
    return 0;
}
