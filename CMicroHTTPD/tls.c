/*
 * Checks a PEM certificate and key with GnuTLS before libmicrohttpd is given them: libmicrohttpd
 * reports a bad pair only as a failed start through its log, and never an expired certificate.
 * GnuTLS is the library libmicrohttpd itself uses for TLS, so what passes here is what it loads.
 */
#include "CMicroHTTPD.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int cmhd_tls_fail(char *error, size_t capacity, const char *what, int code) {
    snprintf(error, capacity, "%s: %s", what, gnutls_strerror(code));
    return -1;
}

int cmhd_tls_check(const char *cert_pem, const char *key_pem, const char *priorities, char *error, size_t capacity) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(error, capacity, "this libmicrohttpd was built without TLS support");
        return -1;
    }
    gnutls_priority_t priority = NULL;
    const char *position = NULL;
    int code = gnutls_priority_init(&priority, priorities, &position);
    if (code < 0) {
        snprintf(error, capacity, "tlsPriorities: %s at '%.40s'", gnutls_strerror(code), position ? position : "");
        return -1;
    }
    gnutls_priority_deinit(priority);

    gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned int)strlen(cert_pem)};
    gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned int)strlen(key_pem)};
    gnutls_x509_crt_t *chain = NULL;
    unsigned int count = 0;
    code = gnutls_x509_crt_list_import2(&chain, &count, &cert, GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    if (code < 0 || count == 0) return cmhd_tls_fail(error, capacity, "tlsCert is not a PEM certificate chain", code < 0 ? code : GNUTLS_E_NO_CERTIFICATE_FOUND);
    time_t now = time(NULL);
    time_t expires = gnutls_x509_crt_get_expiration_time(chain[0]);
    time_t activates = gnutls_x509_crt_get_activation_time(chain[0]);
    for (unsigned int index = 0; index < count; index++) gnutls_x509_crt_deinit(chain[index]);
    gnutls_free(chain);
    if (expires != (time_t)-1 && expires <= now) {
        char date[32];
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&expires));
        snprintf(error, capacity, "tlsCert expired on %s", date);
        return -1;
    }
    if (activates != (time_t)-1 && activates > now) {
        snprintf(error, capacity, "tlsCert is not valid yet");
        return -1;
    }

    gnutls_certificate_credentials_t credentials = NULL;
    code = gnutls_certificate_allocate_credentials(&credentials);
    if (code < 0) return cmhd_tls_fail(error, capacity, "TLS credentials", code);
    /* Parses the key and refuses one that does not belong to the certificate. */
    code = gnutls_certificate_set_x509_key_mem2(credentials, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(credentials);
    if (code == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
        snprintf(error, capacity, "tlsKey does not belong to tlsCert");
        return -1;
    }
    if (code < 0) return cmhd_tls_fail(error, capacity, "tlsKey is not a usable PEM private key for tlsCert", code);
    return 0;
}
