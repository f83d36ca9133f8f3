package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "candlewire test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)  //nolint:errcheck // read back below
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600) //nolint:errcheck // read back below
	return certFile, keyFile
}

// TestTLSAndTokens: with a certificate and tokens configured, run serves
// https only, and every route needs a token.
func TestTLSAndTokens(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	const token = "0123456789abcdef0123"
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("serve:\n  tls_cert: "+cert+"\n  tls_key: "+key+"\n  tokens: ["+token+"]\n"), 0o600) //nolint:errcheck // read by run
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		code, _, _ := run(t, ctx, "run", "--sim", "--config", cfg, "--db", filepath.Join(dir, "c.db"), "--listen", addr)
		done <- code
	}()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a test certificate
	defer client.CloseIdleConnections()
	get := func(url string, hdr string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if hdr != "" {
			req.Header.Set("Authorization", hdr)
		}
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for get("https://"+addr+"/healthz", "Bearer "+token) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("https server did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := get("https://"+addr+"/healthz", ""); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code := get("https://"+addr+"/v1/candles?market=binance:BTCUSDT&token="+token, ""); code != 200 {
		t.Errorf("query token: %d, want 200", code)
	}
	if code := get("http://"+addr+"/healthz", "Bearer "+token); code == 200 {
		t.Error("plain http was served on the TLS port")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exited %d", code)
	}
	// A certificate that cannot be loaded is a config mistake (exit 2),
	// named before anything starts.
	os.WriteFile(cfg, []byte("serve: {tls_cert: "+key+", tls_key: "+key+"}\n"), 0o600) //nolint:errcheck // read by run
	code, _, errs := run(t, context.Background(), "run", "--sim", "--config", cfg, "--db", filepath.Join(dir, "c.db"), "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errs, "serve.tls_cert "+key) || strings.Contains(errs, "candlewire running") {
		t.Fatalf("bad certificate: exit %d, %s", code, errs)
	}
}
