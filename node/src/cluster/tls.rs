//! Mutual TLS between nodes: the rustls configurations built from the cluster CA and this
//! node's certificate, the names a peer's certificate vouches for, and a person's reading of
//! why a handshake failed.
//!
//! Both directions require a certificate signed by the cluster CA and nothing else of it at
//! the TLS level: *which* node a certificate belongs to is checked once the cookie handshake
//! says which name the peer claims (its SAN must be that name; see [`super::gate`]). So a
//! node dialling a join address it knows no name for verifies the peer the same way as one
//! redialling a known member. Only aws-lc-rs is used, named explicitly, so no process-wide
//! crypto provider has to be installed.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::TlsPaths;

/// Both sides of mutual TLS for cluster sessions.
#[derive(Clone)]
pub struct ClusterTls {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

impl ClusterTls {
    /// Reads the CA, the certificate and the key, and builds both configurations. The error
    /// names the file and what is wrong with it.
    pub fn load(files: &TlsPaths<'_>) -> Result<ClusterTls, String> {
        let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>, String> {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("{} holds no PEM certificate", path.display()));
            }
            Ok(certs)
        };
        let mut roots = RootCertStore::empty();
        for ca in read_certs(files.ca)? {
            roots.add(ca).map_err(|e| {
                format!("{} is not a usable CA certificate: {e}", files.ca.display())
            })?;
        }
        let chain = read_certs(files.cert)?;
        let key = PrivateKeyDer::from_pem_file(files.key).map_err(|e| {
            format!(
                "cannot read a private key from {}: {e}",
                files.key.display()
            )
        })?;
        if !cert_names(&chain[0]).iter().any(|n| !n.is_empty()) {
            return Err(format!(
                "{} names no node (no DNS subject alternative name): make node certificates \
                 with `ringwatch cert issue NAME`",
                files.cert.display()
            ));
        }
        ClusterTls::build(roots, chain, key)
    }

    fn build(
        roots: RootCertStore,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ClusterTls, String> {
        let roots = Arc::new(roots);
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
                .build()
                .map_err(|e| format!("cannot use the cluster CA: {e}"))?;
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| format!("the node certificate and key do not fit together: {e}"))?;
        let client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SignedByClusterCa { roots }))
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("the node certificate and key do not fit together: {e}"))?;
        Ok(ClusterTls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
        })
    }

    /// An acceptor nobody can complete a handshake with (it trusts a CA whose key is thrown
    /// away), for ractor_cluster's own listener, which we never use: every session comes
    /// through our accept loop, and nothing may reach the node server around it.
    pub fn refuse_all() -> Result<TlsAcceptor, String> {
        let gen_err = |e: rcgen::Error| format!("cannot make a throwaway certificate: {e}");
        let ca_key = rcgen::KeyPair::generate().map_err(gen_err)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).map_err(gen_err)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).map_err(gen_err)?;
        let key = rcgen::KeyPair::generate().map_err(gen_err)?;
        let cert = rcgen::CertificateParams::new(vec!["unused".to_owned()])
            .map_err(gen_err)?
            .self_signed(&key)
            .map_err(gen_err)?;
        let mut roots = RootCertStore::empty();
        roots.add(ca.der().clone()).map_err(|e| e.to_string())?;
        let key = PrivateKeyDer::try_from(key.serialize_der()).map_err(str::to_owned)?;
        Ok(ClusterTls::build(roots, vec![cert.der().clone()], key)?.acceptor)
    }
}

/// The node names a certificate vouches for: its DNS subject alternative names.
pub fn cert_names(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(name) => Some((*name).to_owned()),
            _ => None,
        })
        .collect()
}

/// Verifies that the peer's certificate chains to the cluster CA and is valid now; which
/// node it names is checked after the cookie handshake, against the name the peer claims.
#[derive(Debug)]
struct SignedByClusterCa {
    roots: Arc<RootCertStore>,
}

impl ServerCertVerifier for SignedByClusterCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            aws_lc_rs::default_provider()
                .signature_verification_algorithms
                .all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &aws_lc_rs::default_provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &aws_lc_rs::default_provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether `err` comes from TLS itself (an alert, a bad certificate), not the connection.
pub fn is_tls_error(err: &std::io::Error) -> bool {
    err.get_ref()
        .is_some_and(|e| e.downcast_ref::<rustls::Error>().is_some())
}

/// Why a TLS handshake (or the first read after it) failed, for a person reading the log.
pub fn explain(err: &std::io::Error) -> String {
    use rustls::Error as E;
    let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<E>()) else {
        return match err.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                "the peer closed the connection during the TLS handshake".to_owned()
            }
            _ => format!("TLS handshake failed: {err}"),
        };
    };
    match tls {
        E::InvalidCertificate(CertificateError::UnknownIssuer | CertificateError::BadSignature) => {
            "the peer's certificate is not signed by our cluster CA".to_owned()
        }
        E::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the peer's certificate has expired".to_owned(),
        E::InvalidCertificate(other) => {
            format!("the peer's certificate is not acceptable: {other:?}")
        }
        E::NoCertificatesPresented => {
            "the peer presented no certificate (a node without cluster TLS configured?)".to_owned()
        }
        E::InvalidMessage(_) => {
            "the peer does not speak TLS (a node without cluster TLS configured?)".to_owned()
        }
        E::AlertReceived(alert) => format!(
            "the peer refused our TLS handshake ({alert:?}): most likely it does not trust our \
             certificate (issued by another cluster CA?) or we do not trust its"
        ),
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA and a node certificate for `name` signed by it, as PEM texts.
    pub(crate) fn pki(name: &str) -> (String, String, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        (ca.pem(), cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_node_certificate_names_its_node_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = pki("n1");
        for (file, text) in [("ca.crt", &ca), ("n1.crt", &cert), ("n1.key", &key)] {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let der = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
        assert_eq!(cert_names(&der), ["n1"]);
        let files = TlsPaths {
            ca: &dir.path().join("ca.crt"),
            cert: &dir.path().join("n1.crt"),
            key: &dir.path().join("n1.key"),
        };
        assert!(ClusterTls::load(&files).is_ok());
        let crt = dir.path().join("n1.crt");
        let swapped = TlsPaths { key: &crt, ..files };
        let err = ClusterTls::load(&swapped).err().unwrap();
        assert!(err.contains("n1.crt"), "{err}");
        assert!(ClusterTls::refuse_all().is_ok());
    }
}
