// Package tlsfiles serves TLS from PEM files on disk, and picks up new files
// without a restart.
//
// A [Files] holds a certificate/key pair, a CA bundle, or both, loaded from
// the paths in [Options]. Its configurations ([Files.ServerConfig],
// [Files.ClientConfig], and the gRPC credentials [Files.ServerCredentials]
// and [Files.ClientCredentials]) read the files' current contents on each
// new handshake: when a certificate is rotated on disk (cert-manager,
// a Kubernetes secret volume, a cron job), the next handshake presents, or
// trusts, the new one. Connections already open keep the certificate they
// were made with.
//
// A new set of files that does not load (a key that does not match the
// certificate, a file caught half-written) is logged as an error and
// ignored: the last good set keeps being served, and the files are tried
// again once they change.
//
// Every configuration requires TLS 1.2 or later and keeps Go's default
// cipher suites.
package tlsfiles
