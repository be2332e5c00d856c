//! `ringwatch cert init|issue`: the cluster CA and node certificates for mutual TLS between
//! nodes (the `tls_ca_file`, `tls_cert_file` and `tls_key_file` config keys).
//!
//! `init` makes `ca.crt` (every node gets a copy) and `ca.key` (needed only to issue; keep it
//! off the nodes). `issue NAME` makes `NAME.crt` and `NAME.key` for the node called NAME:
//! the name is the certificate's subject alternative name, and a node is accepted by its
//! peers only under that name. Private keys are written 0600; nothing is overwritten.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::domain::names::{PLAIN_NAME_RULE, is_plain_name};

/// How long the cluster CA is valid.
const CA_VALID_DAYS: i64 = 3650;
/// How long a node certificate is valid; issue a new one before it ends.
const NODE_VALID_DAYS: i64 = 825;
/// Where certificates go without `--dir`.
const DEFAULT_DIR: &str = "certs";

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Make the cluster CA: DIR/ca.crt (copy it to every node) and DIR/ca.key (keep it safe
    /// and off the nodes: only `cert issue` needs it).
    Init {
        /// Directory for the files (made if missing).
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Make the certificate of the node named NAME, signed by the cluster CA in DIR:
    /// DIR/NAME.crt and DIR/NAME.key (copy both to that node only).
    Issue {
        /// The node's name (its --name), which peers will check against the certificate.
        name: String,
        /// Directory holding ca.crt and ca.key, and for the new files.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
}

/// Runs a `cert` subcommand.
pub(super) fn run(cmd: CertCommand) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Init { dir } => init(&dir),
        CertCommand::Issue { name, dir } => issue(&name, &dir),
    }
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    // An hour back: clocks of the nodes may be a little behind the one that issued.
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days);
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Ringwatch cluster CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, CA_VALID_DAYS);
    params
}

fn init(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (crt, key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
    for path in [&crt, &key_path] {
        if path.exists() {
            bail!(
                "{} exists already: a cluster has one CA (remove it to start over; every node \
                 certificate must then be issued again)",
                path.display()
            );
        }
    }
    let key = KeyPair::generate().context("cannot make a key")?;
    let cert = ca_params()
        .self_signed(&key)
        .context("cannot sign the CA")?;
    write_new(&key_path, &key.serialize_pem(), 0o600)?;
    write_new(&crt, &cert.pem(), 0o644)?;
    println!(
        "created {} (the cluster CA's certificate: copy it to every node, tls_ca_file)",
        crt.display()
    );
    println!(
        "created {} (the CA's private key: keep it safe and off the nodes; only `ringwatch \
         cert issue` needs it)",
        key_path.display()
    );
    Ok(())
}

fn issue(name: &str, dir: &Path) -> anyhow::Result<()> {
    if !is_plain_name(name) {
        bail!("node name {name:?} must be {PLAIN_NAME_RULE}");
    }
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {} (make the cluster CA first: ringwatch cert init --dir {})",
                path.display(),
                dir.display()
            )
        })
    };
    let ca_key = KeyPair::from_pem(&read("ca.key")?).context("ca.key is not a private key")?;
    let issuer = Issuer::from_ca_cert_pem(&read("ca.crt")?, ca_key)
        .context("ca.crt is not a certificate matching ca.key")?;
    let (crt, key_path) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    for path in [&crt, &key_path] {
        if path.exists() {
            bail!(
                "{} exists already (remove it to issue again)",
                path.display()
            );
        }
    }
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.subject_alt_names = vec![SanType::DnsName(
        name.try_into()
            .context("the name cannot be a certificate name")?,
    )];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    validity(&mut params, NODE_VALID_DAYS);
    let key = KeyPair::generate().context("cannot make a key")?;
    let cert = params
        .signed_by(&key, &issuer)
        .context("cannot sign the node certificate")?;
    write_new(&key_path, &key.serialize_pem(), 0o600)?;
    write_new(&crt, &cert.pem(), 0o644)?;
    println!(
        "created {} and {} for node {name} (valid {NODE_VALID_DAYS} days): copy both to that \
         node only, with ca.crt",
        crt.display(),
        key_path.display()
    );
    Ok(())
}

/// Writes `text` to a new file with permissions `mode` (never replacing one).
fn write_new(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tls::{ClusterTls, cert_names};
    use crate::config::TlsPaths;
    use std::os::unix::fs::PermissionsExt;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;

    #[test]
    fn init_then_issue_make_files_a_node_can_load() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        init(&certs).unwrap();
        assert!(init(&certs).is_err(), "never overwrites the CA");
        issue("n1", &certs).unwrap();
        assert!(issue("n1", &certs).is_err(), "never overwrites");
        assert!(issue("bad name", &certs).is_err());
        for key in ["ca.key", "n1.key"] {
            let mode = std::fs::metadata(certs.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        let der = CertificateDer::from_pem_file(certs.join("n1.crt")).unwrap();
        assert_eq!(cert_names(&der), ["n1"]);
        let files = TlsPaths {
            ca: &certs.join("ca.crt"),
            cert: &certs.join("n1.crt"),
            key: &certs.join("n1.key"),
        };
        ClusterTls::load(&files).unwrap();
        let elsewhere = dir.path().join("none");
        let err = issue("n2", &elsewhere).unwrap_err().to_string();
        assert!(err.contains("cert init"), "{err}");
    }
}
