/* curve.c: keypairs as czmq-style text files, and CURVE socket options. */
#include <crm/curve.h>
#include <crm/log.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

/* A DRAFT option in libzmq 4.3, present in Debian's build; stable headers
 * do not declare it. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define S_KEY_FILE_MAX 4096

int crm_keypair_new(crm_keypair_t *kp)
{
    memset(kp, 0, sizeof *kp);
    return zmq_curve_keypair(kp->public_key, kp->secret_key) == 0 ? 0 : -1;
}

int crm_key_valid(const char *z85)
{
    uint8_t raw[32];
    return z85 && strlen(z85) == CRM_KEY_Z85_LEN && zmq_z85_decode(raw, z85) != NULL;
}

static int s_write_file(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create \"%s\": %s", path, strerror(errno));
        return -1;
    }
    /* umask may only remove bits; make the mode exact. */
    size_t len = strlen(text);
    int ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

static int s_name_ok(const char *name)
{
    if (!*name || strlen(name) > 100 || name[0] == '.')
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == '@'))
            return 0;
    return 1;
}

int crm_keypair_write(const crm_keypair_t *kp, const char *dir, const char *name, char *err,
                      size_t errlen)
{
    if (!s_name_ok(name)) {
        snprintf(err, errlen,
                 "invalid key name \"%.100s\": use letters, digits, '-', '_', '.' and '@'", name);
        return -1;
    }
    char path[4096], text[1024];
    snprintf(text, sizeof text,
             "#   ZeroMQ CURVE **Secret** Certificate, written by crm\n"
             "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
             "metadata\n    name = \"%s\"\ncurve\n    public-key = \"%s\"\n"
             "    secret-key = \"%s\"\n",
             name, kp->public_key, kp->secret_key);
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    int rc = s_write_file(path, text, 0600, err, errlen);
    explicit_bzero(text, sizeof text);
    if (rc < 0)
        return -1;
    snprintf(text, sizeof text,
             "#   ZeroMQ CURVE Public Certificate, written by crm\n"
             "#   Exchange securely, or use a secure mechanism to verify the contents\n"
             "#   of this file after exchange. Store public certificates in your home\n"
             "#   directory, in the .curve subdirectory.\n\n"
             "metadata\n    name = \"%s\"\ncurve\n    public-key = \"%s\"\n",
             name, kp->public_key);
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    return s_write_file(path, text, 0644, err, errlen);
}

/* The quoted (or bare) value after "name =" on a trimmed line, into out. */
static int s_value(const char *line, char out[CRM_KEY_Z85_LEN + 1])
{
    const char *eq = strchr(line, '=');
    if (!eq)
        return -1;
    const char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    char quote = (*v == '"' || *v == '\'') ? *v++ : 0;
    size_t n = 0;
    while (v[n] && v[n] != quote && v[n] != '\n' && v[n] != '\r' && (quote || v[n] != ' '))
        n++;
    if (n != CRM_KEY_Z85_LEN || (quote && v[n] != quote))
        return -1;
    memcpy(out, v, n);
    out[n] = 0;
    return crm_key_valid(out) ? 0 : -1;
}

int crm_keypair_read(const char *path, int need_secret, crm_keypair_t *kp, char *err, size_t errlen)
{
    memset(kp, 0, sizeof *kp);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "could not open key file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > S_KEY_FILE_MAX) {
        close(fd);
        snprintf(err, errlen, "key file \"%s\" is not a regular file of at most %d bytes", path,
                 S_KEY_FILE_MAX);
        return -1;
    }
    char buf[S_KEY_FILE_MAX + 1];
    ssize_t n = read(fd, buf, S_KEY_FILE_MAX);
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "could not read key file \"%s\": %s", path, strerror(saved));
        return -1;
    }
    buf[n] = 0;
    int bad = 0;
    char pub[CRM_KEY_Z85_LEN + 1] = "";
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        while (*line == ' ' || *line == '\t')
            line++;
        if (!strncmp(line, "public-key", 10))
            bad |= s_value(line, pub) != 0;
        else if (!strncmp(line, "secret-key", 10))
            bad |= s_value(line, kp->secret_key) != 0;
    }
    explicit_bzero(buf, sizeof buf);
    if (bad) {
        memset(kp, 0, sizeof *kp);
        snprintf(err, errlen, "key file \"%s\" holds a key that is not 40 characters of Z85", path);
        return -1;
    }
    if (need_secret) {
        if (!kp->secret_key[0]) {
            snprintf(err, errlen, "key file \"%s\" holds no secret-key", path);
            return -1;
        }
        if (zmq_curve_public(kp->public_key, kp->secret_key) != 0 ||
            (pub[0] && strcmp(pub, kp->public_key) != 0)) {
            memset(kp, 0, sizeof *kp);
            snprintf(err, errlen, "key file \"%s\": public-key does not belong to secret-key",
                     path);
            return -1;
        }
        if (st.st_mode & (S_IRWXG | S_IRWXO))
            crm_warn("curve.key_mode",
                     "secret key file \"%s\" may be read by other users (mode %03o); use 0600",
                     path, (unsigned)(st.st_mode & 0777));
        return 0;
    }
    if (!pub[0]) {
        snprintf(err, errlen, "key file \"%s\" holds no public-key", path);
        return -1;
    }
    memcpy(kp->public_key, pub, sizeof pub);
    explicit_bzero(kp->secret_key, sizeof kp->secret_key);
    return 0;
}

int crm_curve_server(void *sock, const crm_keypair_t *kp, const char *domain)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_key, CRM_KEY_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        return -1;
    return 0;
}

int crm_curve_client(void *sock, const crm_keypair_t *kp, const char *server_public)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, CRM_KEY_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->public_key, CRM_KEY_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_key, CRM_KEY_Z85_LEN) != 0)
        return -1;
    return 0;
}
