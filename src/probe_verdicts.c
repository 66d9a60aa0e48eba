/*
 * The probe's verdicts: name, finding category, cause and remedy, in the
 * order the steps run (see probe.h).  This table is the one place their
 * wording lives; README.md documents the same list.  The causes are the
 * known ones after a server-certificate change (issue 12; the reference
 * /work/shared/reference/probe-and-fleet.md section A: the silent server
 * of a certificate imported without its private key, openssl/openssl#18574;
 * the unreachable CRL distribution point, CRYPT_E_REVOCATION_OFFLINE).
 */
#include "agentwatch/probe.h"

#include <string.h>

static const struct aw_probe_verdict_info verdicts[AW_PV_COUNT] = {
    [AW_PV_DNS_FAILURE] = {
        "dns-failure", "resolution",
        "The server name does not resolve from this endpoint.",
        "Check the server name in the agent's configuration and this endpoint's DNS "
        "servers and search suffix; check that the DNS record of the server exists." },
    [AW_PV_TCP_REFUSED] = {
        "tcp-refused", "connection",
        "The server refused the TCP connection: nothing listens on that port, or a firewall "
        "rejects it.",
        "Check that the web server (IIS) runs and has an HTTPS binding on this port, and that "
        "no firewall between the endpoint and the server rejects the port." },
    [AW_PV_TCP_TIMEOUT] = {
        "tcp-timeout", "connection",
        "The TCP connection was not answered in time: the server is down or unreachable, or "
        "a firewall drops the packets.",
        "Check the route and the firewalls between this endpoint and the server (VPN, proxy, "
        "network security groups) and that the server is up." },
    [AW_PV_TLS_NO_SERVERHELLO] = {
        "tls-no-serverhello", "ssl",
        "The server accepted the connection and the ClientHello but closed it or stayed silent "
        "without a ServerHello. The usual cause is a server certificate imported without its "
        "private key, or an HTTPS binding on the wrong or a missing certificate.",
        "On the server, check the HTTPS binding (netsh http show sslcert, IIS bindings): bind "
        "the current certificate, and re-import its PFX with the private key if the certificate "
        "store shows no key for it." },
    [AW_PV_TLS_ALERT] = {
        "tls-alert", "ssl",
        "The server ended the handshake with a TLS alert.",
        "Read the alert named in the detail: it says what the server rejected (for example the "
        "server name, or a client certificate it requires); fix that on the server or the "
        "endpoint." },
    [AW_PV_TLS_PROTOCOL] = {
        "tls-protocol", "ssl",
        "The endpoint and the server have no TLS version or cipher suite in common, or the "
        "server does not speak TLS on this port.",
        "Enable a common TLS version and cipher suite on the server or the endpoint (TLS 1.2 "
        "and 1.3 with current suites); check that the port is the HTTPS port." },
    [AW_PV_CHAIN_INCOMPLETE] = {
        "chain-incomplete", "ssl",
        "The server does not send the intermediate CA certificate(s), and they cannot be "
        "fetched from the certificate's AIA URL either, so no chain to a trusted root can be "
        "built.",
        "Install the intermediate CA certificate on the server so that it is sent with the "
        "server certificate (IIS: the Intermediate Certification Authorities store), or make "
        "the AIA URL reachable from the endpoints." },
    [AW_PV_ROOT_UNTRUSTED] = {
        "root-untrusted", "ssl",
        "The chain ends at a root CA this endpoint does not trust (a new issuing CA, or a "
        "self-signed certificate).",
        "Distribute the issuing root CA certificate to the endpoints' trusted root store "
        "(group policy, configuration management), or reissue the server certificate from a "
        "CA the endpoints trust." },
    [AW_PV_CERT_EXPIRED] = {
        "cert-expired", "ssl",
        "A certificate of the chain has expired.",
        "Renew the certificate named in the detail and bind the new one on the server; if it "
        "is a CA certificate, install the renewed CA certificate." },
    [AW_PV_CERT_NOT_YET_VALID] = {
        "cert-not-yet-valid", "ssl",
        "A certificate of the chain is not valid yet: it was issued for a later date, or this "
        "endpoint's clock is behind.",
        "Check this endpoint's clock and time zone; otherwise bind a certificate that is "
        "already valid." },
    [AW_PV_NAME_MISMATCH] = {
        "name-mismatch", "ssl",
        "The server certificate does not carry the server name the endpoint uses: the HTTPS "
        "binding is on the wrong certificate, or the certificate lacks this name.",
        "Bind the certificate issued for this name, or reissue it with the name in its "
        "subject alternative names." },
    [AW_PV_REVOKED] = {
        "revoked", "ssl",
        "A certificate of the chain has been revoked by its CA.",
        "Issue a new certificate and bind it on the server; find out why the old one was "
        "revoked." },
    [AW_PV_REVOCATION_OFFLINE] = {
        "revocation-offline", "ssl",
        "The revocation status cannot be checked: a CRL distribution point or OCSP URL of the "
        "chain cannot be fetched from this endpoint, or the CRL it serves is out of date. "
        "Windows then fails validation of an otherwise valid certificate "
        "(CRYPT_E_REVOCATION_OFFLINE, 0x80092013).",
        "Make the CRL distribution point (and the OCSP responder, when the certificates name "
        "one) reachable over HTTP from the endpoints, and publish a current CRL (check the "
        "CA's CRL publication schedule and the CRL's next update) and current OCSP answers." },
    [AW_PV_OK] = {
        "ok", "health",
        "The server answered, its certificate chain is complete, trusted, valid, issued for "
        "this name and not revoked.",
        "None." },
};

static const char *const step_names[AW_PS_COUNT] = {
    "dns", "tcp", "tls", "chain", "trust", "validity", "name", "revocation",
};

const struct aw_probe_verdict_info *aw_probe_verdict_info(enum aw_probe_verdict v)
{
    return &verdicts[v < AW_PV_COUNT ? v : AW_PV_OK];
}

bool aw_probe_verdict_by_name(const char *name, enum aw_probe_verdict *v)
{
    for (int i = 0; i < AW_PV_COUNT; i++) {
        if (strcmp(verdicts[i].name, name) == 0) {
            *v = (enum aw_probe_verdict)i;
            return true;
        }
    }
    return false;
}

const char *aw_probe_step_name(enum aw_probe_step s)
{
    return s < AW_PS_COUNT ? step_names[s] : "?";
}
