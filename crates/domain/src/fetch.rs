//! What an automatic upload may fetch: the kinds of link OAS reads (a
//! Google Drive file or folder, a Dropbox shared link, an FTP, FTPS or SFTP
//! URL), parsed out of every form people paste, and the addresses a fetch
//! may never reach (loopback, private, link-local, cloud metadata,
//! unique-local, IPv4-mapped and the like), whatever name points at them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("{0:?} is not a URL.")]
    NotUrl(String),
    #[error(
        "Only Google Drive and Dropbox links (https) and ftp://, ftps:// or sftp:// URLs are fetched, not {0}://."
    )]
    Scheme(String),
    #[error(
        "This link names no Google Drive file or folder: share the file or folder with \"Anyone with the link\" and paste that link."
    )]
    DriveId,
    #[error("This is not a Dropbox shared link (/s/, /sh/, /scl/fi/ or /scl/fo/).")]
    Dropbox,
    #[error(
        "Only Google Drive and Dropbox links are fetched over https; other files are fetched by ftp://, ftps:// or sftp://."
    )]
    Host(String),
    #[error("An FTP URL names its host.")]
    NoHost,
}

/// What a Drive link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveKind {
    /// A file (or a shortcut to one), or a Google Sheet (exported as XLSX).
    File,
    Folder,
}

/// The FTP family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpScheme {
    Ftp,
    Ftps,
    Sftp,
}

impl FtpScheme {
    pub fn default_port(self) -> u16 {
        match self {
            FtpScheme::Ftp | FtpScheme::Ftps => 21,
            FtpScheme::Sftp => 22,
        }
    }
}

/// A link OAS can fetch from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Read through the Drive API only, never the link itself.
    Drive {
        id: String,
        kind: DriveKind,
        /// A link shared after 2021 may need its resource key.
        resource_key: Option<String>,
    },
    /// Read through the Dropbox API only; the link is its shared link.
    Dropbox { url: String, folder: bool },
    Ftp {
        scheme: FtpScheme,
        host: String,
        port: u16,
        /// The folder or file, percent-decoded.
        path: String,
        user: Option<String>,
        /// Never logged nor echoed back.
        password: Option<String>,
    },
}

/// A Drive id: letters, digits, `-` and `_`, long enough to be one.
fn drive_id(text: &str) -> Option<String> {
    let valid = text.len() >= 10
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| text.to_owned())
}

fn drive(url: &Url) -> Result<Link, LinkError> {
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let resource_key = query("resourcekey").filter(|k| !k.is_empty());
    // After `d` (files, sheets, documents) or `folders`, skipping any
    // `u/N` account part before them.
    let after = |marker: &str| {
        segments
            .iter()
            .position(|s| *s == marker)
            .and_then(|at| segments.get(at + 1))
            .and_then(|id| drive_id(id))
    };
    let (id, kind) = if let Some(id) = after("folders") {
        (id, DriveKind::Folder)
    } else if let Some(id) = after("d") {
        (id, DriveKind::File)
    } else if let Some(id) = query("id").and_then(|id| drive_id(&id)) {
        // `open?id=` names either; the API says which it is.
        (id, DriveKind::File)
    } else {
        return Err(LinkError::DriveId);
    };
    Ok(Link::Drive {
        id,
        kind,
        resource_key,
    })
}

fn dropbox(url: &Url) -> Result<Link, LinkError> {
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let folder = match segments.as_slice() {
        ["s", _, ..] => false,
        ["sh", _, ..] => true,
        ["scl", "fi", _, ..] => false,
        ["scl", "fo", _, ..] => true,
        _ => return Err(LinkError::Dropbox),
    };
    let mut clean = url.clone();
    // The shared link with its key, without `dl=` and the like.
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k == "rlkey")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    clean.set_fragment(None);
    if kept.is_empty() {
        clean.set_query(None);
    } else {
        clean.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(Link::Dropbox {
        url: clean.to_string(),
        folder,
    })
}

fn percent_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Reads a pasted link.
pub fn parse_link(raw: &str) -> Result<Link, LinkError> {
    let text = raw.trim();
    let url = Url::parse(text).map_err(|_| LinkError::NotUrl(text.chars().take(200).collect()))?;
    let scheme = match url.scheme() {
        "https" => None,
        "ftp" => Some(FtpScheme::Ftp),
        "ftps" => Some(FtpScheme::Ftps),
        "sftp" => Some(FtpScheme::Sftp),
        other => return Err(LinkError::Scheme(other.to_owned())),
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let Some(scheme) = scheme else {
        return match host.as_str() {
            "drive.google.com" | "docs.google.com" => drive(&url),
            "www.dropbox.com" | "dropbox.com" => dropbox(&url),
            _ => Err(LinkError::Host(host)),
        };
    };
    if host.is_empty() {
        return Err(LinkError::NoHost);
    }
    let user = Some(percent_decoded(url.username())).filter(|u| !u.is_empty());
    let password = url.password().map(percent_decoded);
    Ok(Link::Ftp {
        scheme,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: url.port().unwrap_or(scheme.default_port()),
        path: percent_decoded(url.path()),
        user,
        password,
    })
}

/// An organisation's own keys for the storage services, kept in its
/// settings (`fetch`); each, when set, is used before the deployment's.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FetchKeys {
    pub google_api_key: Option<String>,
    pub dropbox_app_key: Option<String>,
    pub dropbox_app_secret: Option<String>,
}

impl FetchKeys {
    /// The keys in an organisation's settings (JSON); none when unreadable.
    pub fn of_settings(settings: &str) -> Self {
        serde_json::from_str::<serde_json::Value>(settings)
            .ok()
            .and_then(|v| serde_json::from_value(v["fetch"].clone()).ok())
            .unwrap_or_default()
    }
}

/// Why a fetch may not connect to `ip`, if it may not: the addresses of
/// the machine itself, of private networks, of cloud metadata services,
/// and any that only name one of those another way.
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refused_v4(v4).or(Some("an IPv4-mapped address"));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique-local address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if first & 0xff00 == 0xff00 {
                Some("a multicast address")
            } else if v6.segments()[..6] == [0; 6] {
                // IPv4-compatible (deprecated), ::a.b.c.d.
                Some("an IPv4-compatible address")
            } else if first == 0x64 && v6.segments()[1] == 0xff9b {
                Some("a NAT64 address")
            } else if v6 == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
                Some("a cloud metadata address")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("a documentation address")
            } else {
                None
            }
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        // 169.254.169.254 is the cloud metadata service.
        Some("a link-local address (cloud metadata lives there)")
    } else if ip.is_unspecified() || a == 0 {
        Some("the unspecified network")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("an IETF protocol address")
    } else if (a == 198 && (b == 18 || b == 19)) || ip.is_documentation() {
        Some("a benchmarking or documentation address")
    } else {
        None
    }
}

/// Address ranges the tests' local servers are reached at
/// (`OAS_FETCH_ALLOW_PRIVATE`, empty by default): an exception to
/// [`refused`] for exactly those ranges, never a switch that turns the
/// checks off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed(Vec<IpNet>);

impl Allowed {
    /// Comma-separated ranges (`127.0.0.1/32, ::1/128`); a bare address
    /// is a range of one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let range = match part.parse::<IpNet>() {
                Ok(range) => range,
                Err(_) => part
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| format!("{part:?} is not an address range"))?,
            };
            ranges.push(range);
        }
        Ok(Self(ranges))
    }

    /// The ranges, as [`Allowed::parse`] reads them.
    pub fn text(&self) -> String {
        self.0
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Why connecting to `ip` is refused, unless a range allows it.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match refused(ip) {
            Some(_) if self.0.iter().any(|r| r.contains(&ip)) => Ok(()),
            Some(why) => Err(format!("{ip} is {why}: OAS does not fetch from it.")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive_link(id: &str, kind: DriveKind, key: Option<&str>) -> Link {
        Link::Drive {
            id: id.to_owned(),
            kind,
            resource_key: key.map(str::to_owned),
        }
    }

    #[test]
    fn every_drive_link_form_names_its_file_or_folder() {
        let id = "1AbCdEfGhIjKlMnOpQrStUvWxYz_-012";
        for (link, kind) in [
            (
                format!("https://drive.google.com/file/d/{id}/view?usp=sharing"),
                DriveKind::File,
            ),
            (
                format!("https://drive.google.com/file/u/1/d/{id}/view"),
                DriveKind::File,
            ),
            (
                format!("https://drive.google.com/drive/folders/{id}"),
                DriveKind::Folder,
            ),
            (
                format!("https://drive.google.com/drive/u/0/folders/{id}?usp=drive_link"),
                DriveKind::Folder,
            ),
            (
                format!("https://drive.google.com/open?id={id}"),
                DriveKind::File,
            ),
            (
                format!("https://drive.google.com/uc?id={id}&export=download"),
                DriveKind::File,
            ),
            (
                format!("https://docs.google.com/spreadsheets/d/{id}/edit#gid=0"),
                DriveKind::File,
            ),
            (
                format!("  https://DRIVE.google.com/file/d/{id}  "),
                DriveKind::File,
            ),
        ] {
            assert_eq!(parse_link(&link), Ok(drive_link(id, kind, None)), "{link}");
        }
        assert_eq!(
            parse_link(&format!(
                "https://drive.google.com/drive/folders/{id}?resourcekey=0-AbC_d"
            )),
            Ok(drive_link(id, DriveKind::Folder, Some("0-AbC_d")))
        );
        assert_eq!(
            parse_link("https://drive.google.com/drive/my-drive"),
            Err(LinkError::DriveId)
        );
    }

    #[test]
    fn dropbox_shared_links_keep_their_key_and_nothing_else() {
        assert_eq!(
            parse_link("https://www.dropbox.com/scl/fo/abc123/xyz?rlkey=k1&dl=0"),
            Ok(Link::Dropbox {
                url: "https://www.dropbox.com/scl/fo/abc123/xyz?rlkey=k1".to_owned(),
                folder: true
            })
        );
        assert_eq!(
            parse_link("https://www.dropbox.com/s/abc123/report.csv?dl=1"),
            Ok(Link::Dropbox {
                url: "https://www.dropbox.com/s/abc123/report.csv".to_owned(),
                folder: false
            })
        );
        assert!(matches!(
            parse_link("https://www.dropbox.com/sh/abc/def"),
            Ok(Link::Dropbox { folder: true, .. })
        ));
        assert_eq!(
            parse_link("https://www.dropbox.com/home/reports"),
            Err(LinkError::Dropbox)
        );
    }

    #[test]
    fn ftp_urls_carry_their_credentials_and_other_links_are_refused() {
        assert_eq!(
            parse_link("sftp://label%40x:p%2Fss@files.example.com:2222/in%20box/"),
            Ok(Link::Ftp {
                scheme: FtpScheme::Sftp,
                host: "files.example.com".to_owned(),
                port: 2222,
                path: "/in box/".to_owned(),
                user: Some("label@x".to_owned()),
                password: Some("p/ss".to_owned()),
            })
        );
        assert!(matches!(
            parse_link("ftps://[::1]/reports"),
            Ok(Link::Ftp { port: 21, ref host, .. }) if host == "::1"
        ));
        assert_eq!(
            parse_link("http://drive.google.com/file/d/1AbCdEfGhIjKl"),
            Err(LinkError::Scheme("http".to_owned()))
        );
        assert_eq!(
            parse_link("file:///etc/passwd"),
            Err(LinkError::Scheme("file".to_owned()))
        );
        assert_eq!(
            parse_link("https://example.com/report.csv"),
            Err(LinkError::Host("example.com".to_owned()))
        );
        assert!(matches!(
            parse_link("not a link"),
            Err(LinkError::NotUrl(_))
        ));
    }

    #[test]
    fn private_and_metadata_addresses_are_refused_however_written() {
        for refused_ip in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "64:ff9b::a00:1",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = refused_ip.parse().unwrap();
            assert!(refused(ip).is_some(), "{refused_ip}");
            assert!(Allowed::default().check(ip).is_err(), "{refused_ip}");
        }
        for public in ["8.8.8.8", "142.250.74.46", "2606:4700::1111"] {
            let ip: IpAddr = public.parse().unwrap();
            assert_eq!(refused(ip), None, "{public}");
        }
        // The tests' exception: exactly its ranges, nothing else.
        let allowed = Allowed::parse("127.0.0.1, ::1/128").unwrap();
        assert!(allowed.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(allowed.check("::1".parse().unwrap()).is_ok());
        assert!(allowed.check("127.0.0.2".parse().unwrap()).is_err());
        assert!(allowed.check("10.0.0.1".parse().unwrap()).is_err());
        assert!(Allowed::parse("everything").is_err());
    }
}
