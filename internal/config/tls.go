package config

import (
	"crypto/tls"
	"fmt"
	"os"
)

// checkTLS loads the certificate and key when they are set, so that a
// missing or unreadable file is a config mistake named before anything
// starts, not a failure after the collector is up.
func (s Serve) checkTLS() error {
	if s.TLSCert == "" {
		return nil
	}
	for _, f := range []struct{ key, path string }{{"tls_cert", s.TLSCert}, {"tls_key", s.TLSKey}} {
		if _, err := os.ReadFile(f.path); err != nil {
			return fmt.Errorf("serve.%s: %w", f.key, err) // the error names the file
		}
	}
	if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
		return fmt.Errorf("serve.tls_cert %s and serve.tls_key %s: %w", s.TLSCert, s.TLSKey, err)
	}
	return nil
}
