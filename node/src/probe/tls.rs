//! Certificate lifetime of https checks: whole days left on the leaf certificate of the
//! connection that gave the final answer, and the `tls_min_days` assertion on them.

/// Milliseconds in a day, for whole days left.
const MS_PER_DAY: i64 = 86_400_000;

/// Whole days until the server certificate behind `response` expires, rounded down
/// (negative once expired). `None` when the answer did not come over TLS or the
/// certificate cannot be read.
pub(super) fn days_left(response: &reqwest::Response, now_ms: u64) -> Option<i64> {
    let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
    days_until_expiry(info.peer_certificate()?, now_ms)
}

/// Whole days from `now_ms` until the notAfter of the DER certificate `der`, rounded down.
pub(super) fn days_until_expiry(der: &[u8], now_ms: u64) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after_ms = cert.validity().not_after.timestamp().saturating_mul(1000);
    let now_ms = i64::try_from(now_ms).ok()?;
    Some(not_after_ms.saturating_sub(now_ms).div_euclid(MS_PER_DAY))
}

/// Checks `days_left` against the monitor's `tls_min_days`; the error is the reason.
pub(super) fn assert_lifetime(min_days: Option<u32>, days_left: Option<i64>) -> Result<(), String> {
    let Some(min) = min_days else {
        return Ok(());
    };
    match days_left {
        Some(days) if days >= i64::from(min) => Ok(()),
        Some(days) if days < 0 => Err(format!("certificate has expired (minimum {min} days)")),
        Some(days) => Err(format!(
            "certificate expires in {days} day{} (minimum {min})",
            if days == 1 { "" } else { "s" }
        )),
        None => Err("no certificate expiry to check: the answer did not come over TLS".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_assertion() {
        assert_eq!(assert_lifetime(None, None), Ok(()));
        assert_eq!(assert_lifetime(Some(7), Some(7)), Ok(()));
        assert_eq!(
            assert_lifetime(Some(7), Some(2)).unwrap_err(),
            "certificate expires in 2 days (minimum 7)"
        );
        assert_eq!(
            assert_lifetime(Some(7), Some(1)).unwrap_err(),
            "certificate expires in 1 day (minimum 7)"
        );
        assert!(
            assert_lifetime(Some(0), Some(-1))
                .unwrap_err()
                .contains("expired")
        );
        assert!(assert_lifetime(Some(1), None).is_err());
    }

    #[test]
    fn garbage_certificate_has_no_expiry() {
        assert_eq!(days_until_expiry(b"not a certificate", 0), None);
        assert_eq!(days_until_expiry(&[], 0), None);
    }
}
