//! The cluster transport's part of the configuration: the cookie, the TLS files, and what a
//! node refuses on a cluster address others can reach.

use std::path::Path;

use super::{Config, ConfigError, DEFAULT_COOKIE};

/// The three files of cluster TLS, as configured (see [`Config::tls_files`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsPaths<'a> {
    /// The cluster CA's certificate.
    pub ca: &'a Path,
    /// This node's certificate.
    pub cert: &'a Path,
    /// This node's private key.
    pub key: &'a Path,
}

impl Config {
    /// The cluster TLS files, when all three are set (see [`Config::tls_ca_file`]).
    pub fn tls_files(&self) -> Option<TlsPaths<'_>> {
        match (&self.tls_ca_file, &self.tls_cert_file, &self.tls_key_file) {
            (Some(ca), Some(cert), Some(key)) => Some(TlsPaths { ca, cert, key }),
            _ => None,
        }
    }

    /// Checks the cookie and the TLS keys, and refuses what would expose the cluster
    /// transport: the public default cookie, or plaintext (unless asked for), on a cluster
    /// address others can reach.
    pub(super) fn finish_cluster_security(&self) -> Result<(), ConfigError> {
        if self.cookie.is_empty() {
            return Err(ConfigError::Invalid("cookie must not be empty".into()));
        }
        let set = [&self.tls_ca_file, &self.tls_cert_file, &self.tls_key_file]
            .iter()
            .filter(|f| f.is_some())
            .count();
        if set != 0 && set != 3 {
            return Err(ConfigError::Invalid(
                "cluster TLS needs all of tls_ca_file, tls_cert_file and tls_key_file \
                 (--tls-ca-file, --tls-cert-file, --tls-key-file), or none of them"
                    .into(),
            ));
        }
        if self.cluster.ip().is_loopback() {
            return Ok(());
        }
        if self.cookie == DEFAULT_COOKIE {
            return Err(ConfigError::Invalid(format!(
                "the cluster address {} is not loopback and the cluster cookie is the public \
                 default: anyone who reaches the port could join. Give every node the same \
                 secret cookie (cookie, cookie_file, --cookie or RINGWATCH_COOKIE; e.g. \
                 `openssl rand -hex 32`)",
                self.cluster
            )));
        }
        if set == 0 && !self.allow_plaintext_cluster {
            return Err(ConfigError::Invalid(format!(
                "the cluster address {} is not loopback and cluster TLS is not configured: \
                 definitions, results and secrets would cross the network in clear. Make \
                 certificates with `ringwatch cert init` and `ringwatch cert issue NAME`, set \
                 tls_ca_file, tls_cert_file and tls_key_file, or pass \
                 --allow-plaintext-cluster on a network you trust",
                self.cluster
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(cookie: &str, tls: bool, allow_plaintext_cluster: bool) -> Config {
        let file = |f: &str| tls.then(|| f.into());
        Config {
            cluster: "0.0.0.0:7800".parse().unwrap(),
            cookie: cookie.into(),
            tls_ca_file: file("ca.crt"),
            tls_cert_file: file("n1.crt"),
            tls_key_file: file("n1.key"),
            allow_plaintext_cluster,
            ..Config::default()
        }
    }

    #[test]
    fn an_exposed_cluster_address_needs_a_secret_cookie_and_tls_or_an_opt_out() {
        let refused = |c: Config| c.finish_cluster_security().unwrap_err().to_string();
        let err = refused(exposed(DEFAULT_COOKIE, true, true));
        assert!(err.contains("public default"), "{err}");
        let err = refused(exposed("s3cret", false, false));
        assert!(err.contains("--allow-plaintext-cluster"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(
            exposed("s3cret", false, true)
                .finish_cluster_security()
                .is_ok()
        );
        assert!(
            exposed("s3cret", true, false)
                .finish_cluster_security()
                .is_ok()
        );
        let partial = Config {
            tls_key_file: None,
            ..exposed("s3cret", true, false)
        };
        assert!(refused(partial).contains("all of"));
        // Loopback: the two-command local start needs neither.
        assert!(Config::default().finish_cluster_security().is_ok());
        assert!(Config::default().tls_files().is_none());
        assert!(exposed("s3cret", true, false).tls_files().is_some());
    }
}
