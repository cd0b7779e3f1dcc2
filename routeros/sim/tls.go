package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"
)

// selfSigned makes an ECDSA P-256 self-signed certificate for cn, as
// RouterOS makes one for api-ssl; notAfter nil means ten years.
func selfSigned(cn string, notAfter *time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sim: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("sim: certificate serial: %w", err)
	}
	now := time.Now()
	end := now.AddDate(10, 0, 0)
	if notAfter != nil {
		end = *notAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              end,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sim: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sim: parse certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// autoCertName names the certificate rossim makes for api-ssl with Cert
// "auto". (What RouterOS calls a certificate it makes itself is not
// verified; the name says what it is for.)
const autoCertName = "api-ssl-auto"

// installAutoCert makes the self-signed api-ssl certificate of Cert "auto",
// lists it under /certificate and names it in /ip service api-ssl, so that
// a client reading the router sees the certificate TLS serves. A
// configuration that already gives api-ssl a certificate keeps it.
func (r *Router) installAutoCert() error {
	r.mu.Lock()
	id := r.st.tables["/system identity"]
	// RouterOS names its own certificate after the router.
	cn, _ := id.get(id.items[0], "name")
	r.mu.Unlock()
	c, err := selfSigned(cn, nil)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.autoCert = c
	svc := r.st.tables["/ip service"]
	api := r.findOne(svc, "api-ssl")
	if api == nil {
		return nil
	}
	if v := api.props["certificate"]; v != "" && v != "none" {
		return nil
	}
	t := r.st.tables["/certificate"]
	if r.findOne(t, autoCertName) == nil {
		it := r.st.newItem(t)
		it.created = r.clk.now()
		it.set("name", autoCertName)
		it.set("common-name", cn)
		it.set("key-usage", "digital-signature,key-encipherment,key-cert-sign,tls-server")
		it.set("trusted", "true")
		t.items = append(t.items, it)
		r.setCert(it, autoCertName, c)
	}
	api.set("certificate", autoCertName)
	return nil
}

// fingerprint is the lowercase hex SHA-256 of the leaf DER, the form
// wgboot --fingerprint takes.
func fingerprint(c *tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return hex.EncodeToString(sum[:])
}

// currentCert is what api-ssl serves now: the certificate named in
// /ip service api-ssl, else the automatic one, else nil (no certificate).
func (r *Router) currentCert() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	svc := r.st.tables["/ip service"]
	if it := r.findOne(svc, "api-ssl"); it != nil {
		if name := it.props["certificate"]; name != "" && name != "none" {
			if c := r.certs[name]; c != nil {
				return c
			}
		}
	}
	return r.autoCert
}

// refuseTLS answers a ClientHello the way a router whose api-ssl has no
// certificate answers a client without anonymous-DH suites: a fatal
// handshake_failure alert, then the connection closes.
func refuseTLS(c net.Conn) error {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return err
	}
	n := int(hdr[3])<<8 | int(hdr[4])
	if hdr[0] != 22 || n > 1<<14+2048 {
		return fmt.Errorf("sim: not a TLS handshake record")
	}
	if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
		return err
	}
	// alert record: type 21, TLS 1.2, length 2, fatal (2), handshake_failure (40)
	_, err := c.Write([]byte{21, 3, 3, 0, 2, 2, 40})
	return err
}
