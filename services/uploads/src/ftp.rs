//! FTP, FTPS and SFTP: a path listed (folders walked to the depth limit)
//! and its files read, over one connection per fetch. The server's
//! addresses are checked by the [`Guard`] before connecting, and the
//! connection goes to a checked address only: FTP's data connections too
//! (passive mode, to the control connection's address whatever `PASV`
//! answers). FTPS is explicit TLS (`AUTH TLS`, then `PROT P`) verified
//! against the system's authorities and `OAS_FETCH_CA_FILE`'s. An SFTP
//! server's key is pinned: a source keeps the key seen first and refuses
//! any other after.
//!
//! Credentials come from the URL and are never logged: errors name the
//! host and path only.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use oas_domain::fetch::{FtpScheme, Link};
use oas_domain::job::FailureCode;
use oas_platform::fetch::{Guard, Saved, Saver};
use oas_platform::module::Failure;
use russh::keys::PublicKey;
use russh_sftp::client::SftpSession;
use suppaftp::tokio::{
    AsyncFtpStream, AsyncRustlsConnector, AsyncRustlsFtpStream, ImplAsyncFtpStream,
};
use suppaftp::types::FileType;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;

use crate::fetch::{Found, How, Limits, Listing};

fn rejected(message: impl Into<String>) -> Failure {
    Failure::new(FailureCode::Rejected, message)
}

/// An entry of a listed folder.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    folder: bool,
    size: Option<u64>,
    modified: Option<String>,
}

fn rfc3339(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An open connection.
enum Conn {
    Plain(AsyncFtpStream),
    Tls(AsyncRustlsFtpStream),
    Sftp {
        // Kept open for as long as the SFTP session runs on it.
        _ssh: russh::client::Handle<Pinning>,
        sftp: SftpSession,
    },
}

/// A reader of one FTP, FTPS or SFTP URL.
pub struct Ftp {
    scheme: FtpScheme,
    host: String,
    port: u16,
    path: String,
    user: Option<String>,
    password: Option<String>,
    guard: Guard,
    ca_file: Option<PathBuf>,
    /// The SFTP key the source pinned, if it has one.
    pinned: Option<String>,
    /// The SFTP key the server showed.
    shown: Arc<Mutex<Option<String>>>,
    conn: tokio::sync::Mutex<Option<Conn>>,
}

impl Ftp {
    pub fn new(
        link: &Link,
        guard: Guard,
        pinned: Option<String>,
        ca_file: Option<PathBuf>,
    ) -> Result<Self, Failure> {
        let Link::Ftp {
            scheme,
            host,
            port,
            path,
            user,
            password,
        } = link
        else {
            return Err(Failure::new(FailureCode::Internal, "not an FTP link"));
        };
        if *scheme == FtpScheme::Sftp && (user.is_none() || password.is_none()) {
            return Err(rejected(
                "An SFTP URL names its user and password: sftp://user:password@host/path.",
            ));
        }
        Ok(Self {
            scheme: *scheme,
            host: host.clone(),
            port: *port,
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.clone()
            },
            user: user.clone(),
            password: password.clone(),
            guard,
            ca_file,
            pinned,
            shown: Arc::new(Mutex::new(None)),
            conn: tokio::sync::Mutex::new(None),
        })
    }

    /// The SFTP server's key, as seen on this fetch.
    pub fn host_key(&self) -> Option<String> {
        self.shown.lock().ok().and_then(|k| k.clone())
    }

    fn place(&self) -> String {
        let scheme = match self.scheme {
            FtpScheme::Ftp => "ftp",
            FtpScheme::Ftps => "ftps",
            FtpScheme::Sftp => "sftp",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    async fn within<T, E: std::fmt::Display>(
        &self,
        what: &str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.guard.timeout(), work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(format!("{what}: {e}")),
            Err(_) => Err(format!(
                "{what}: no answer within {} s",
                self.guard.timeout().as_secs()
            )),
        }
    }

    /// A TCP connection to a checked address of the server.
    async fn tcp(&self) -> Result<TcpStream, String> {
        let addresses = self
            .guard
            .addresses(&self.host, self.port)
            .await
            .map_err(|e| e.to_string())?;
        let mut last = String::new();
        for address in addresses {
            match tokio::time::timeout(Duration::from_secs(20), TcpStream::connect(address)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "timed out".to_owned(),
            }
        }
        Err(format!("cannot connect to {}: {last}", self.place()))
    }

    async fn connect(&self) -> Result<Conn, String> {
        let tcp = self.tcp().await?;
        let user = self.user.clone().unwrap_or_else(|| "anonymous".to_owned());
        let password = self
            .password
            .clone()
            .unwrap_or_else(|| "anonymous@".to_owned());
        match self.scheme {
            FtpScheme::Ftp => {
                let mut ftp = self
                    .within("connecting", AsyncFtpStream::connect_with_stream(tcp))
                    .await?;
                self.start(&mut ftp, &user, &password).await?;
                Ok(Conn::Plain(ftp))
            }
            FtpScheme::Ftps => {
                let ftp = self
                    .within("connecting", AsyncRustlsFtpStream::connect_with_stream(tcp))
                    .await?;
                let connector = self.tls()?;
                let mut ftp = self
                    .within("starting TLS", ftp.into_secure(connector, &self.host))
                    .await?;
                self.start(&mut ftp, &user, &password).await?;
                Ok(Conn::Tls(ftp))
            }
            FtpScheme::Sftp => self.sftp(tcp, &user, &password).await,
        }
    }

    /// Logs in, binary transfers, passive mode to the control connection's
    /// own address.
    async fn start<T>(
        &self,
        ftp: &mut ImplAsyncFtpStream<T>,
        user: &str,
        password: &str,
    ) -> Result<(), String>
    where
        T: suppaftp::tokio::TokioTlsStream + Send,
    {
        ftp.set_passive_nat_workaround(true);
        self.within("logging in", ftp.login(user, password))
            .await
            .map_err(|e| {
                format!(
                    "{} refused the login ({e}): check the user and password.",
                    self.place()
                )
            })?;
        self.within("binary mode", ftp.transfer_type(FileType::Binary))
            .await?;
        Ok(())
    }

    fn tls(&self) -> Result<AsyncRustlsConnector, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let extra: Vec<CertificateDer<'static>> = match &self.ca_file {
            Some(path) => CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("the authorities in {}: {e}", path.display()))?,
            None => Vec::new(),
        };
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                .map_err(|e| format!("TLS: {e}"))?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(AsyncRustlsConnector::from(
            tokio_rustls::TlsConnector::from(Arc::new(config)),
        ))
    }

    async fn sftp(&self, tcp: TcpStream, user: &str, password: &str) -> Result<Conn, String> {
        let handler = Pinning {
            pinned: self.pinned.clone(),
            shown: self.shown.clone(),
        };
        let config = Arc::new(russh::client::Config {
            inactivity_timeout: Some(self.guard.timeout()),
            ..Default::default()
        });
        let mut ssh = match tokio::time::timeout(
            self.guard.timeout(),
            russh::client::connect_stream(config, tcp, handler),
        )
        .await
        {
            Ok(Ok(ssh)) => ssh,
            Ok(Err(russh::Error::UnknownKey)) => {
                return Err(format!(
                    "{} showed a host key other than the one pinned for this source ({}): if the server's key changed on purpose, set the source's host_key to the new one.",
                    self.place(),
                    self.pinned.as_deref().unwrap_or_default()
                ));
            }
            Ok(Err(e)) => return Err(format!("{}: {e}", self.place())),
            Err(_) => return Err(format!("{}: no answer", self.place())),
        };
        let auth = self
            .within("logging in", ssh.authenticate_password(user, password))
            .await?;
        if !auth.success() {
            return Err(format!(
                "{} refused the login: check the user and password.",
                self.place()
            ));
        }
        let channel = self
            .within("opening a session", ssh.channel_open_session())
            .await?;
        self.within("starting SFTP", channel.request_subsystem(true, "sftp"))
            .await?;
        let sftp = self
            .within("starting SFTP", SftpSession::new(channel.into_stream()))
            .await?;
        Ok(Conn::Sftp { _ssh: ssh, sftp })
    }

    /// Runs `work` on the connection, opening it first if needed; a
    /// connection that failed is dropped, so the next call opens another.
    async fn with_conn<T>(
        &self,
        work: impl AsyncFnOnce(&mut Conn) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(self.connect().await?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err("no connection".to_owned());
        };
        let result = work(conn).await;
        if result.is_err() {
            *slot = None;
        }
        result
    }

    /// The entries of folder `path`; `None` when `path` is not a folder.
    async fn entries(&self, path: &str) -> Result<Option<Vec<Entry>>, String> {
        let timeout = self.guard.timeout();
        self.with_conn(async |conn| match conn {
            Conn::Plain(ftp) => ftp_entries(ftp, path, timeout).await,
            Conn::Tls(ftp) => ftp_entries(ftp, path, timeout).await,
            Conn::Sftp { sftp, .. } => sftp_entries(sftp, path, timeout).await,
        })
        .await
    }

    /// Everything below the URL's path, within the depth limit.
    pub async fn list(&self, limits: Limits) -> Result<Listing, Failure> {
        let top = self.path.clone();
        let entries = match self.entries(&top).await {
            Ok(entries) => entries,
            Err(e) => return Err(rejected(e)),
        };
        let Some(entries) = entries else {
            // The URL names a file.
            let name = top.rsplit('/').next().unwrap_or(&top).to_owned();
            let size = self.size(&top).await.ok().flatten();
            return crate::fetch::single(Found {
                name: name.clone(),
                path: name,
                size,
                modified: None,
                how: How::Ftp(top),
            });
        };
        let mut listing = Listing::default();
        let mut folders = vec![(top, String::new(), 0usize, Some(entries))];
        while let Some((full, shown, depth, known)) = folders.pop() {
            let entries = match known {
                Some(entries) => entries,
                None => match self.entries(&full).await {
                    Ok(Some(entries)) => entries,
                    Ok(None) => continue,
                    Err(e) => {
                        listing.stopped = Some(format!("{shown} could not be listed: {e}"));
                        listing.skip(&shown, &shown, "not_fetched", format!("Not listed: {e}"));
                        continue;
                    }
                },
            };
            for entry in entries {
                let inner = format!("{}/{}", full.trim_end_matches('/'), entry.name);
                let at = crate::fetch::join(&shown, &entry.name);
                if entry.folder {
                    if depth + 1 > limits.max_depth {
                        let reason = format!(
                            "A folder more than {} level(s) below the link is not walked.",
                            limits.max_depth
                        );
                        listing.skip(&entry.name, &at, "too_deep", reason);
                    } else {
                        folders.push((inner, at, depth + 1, None));
                    }
                } else {
                    listing.offer(Found {
                        name: entry.name,
                        path: at,
                        size: entry.size,
                        modified: entry.modified,
                        how: How::Ftp(inner),
                    });
                }
            }
        }
        listing.found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(listing)
    }

    async fn size(&self, path: &str) -> Result<Option<u64>, String> {
        self.with_conn(async |conn| match conn {
            Conn::Plain(ftp) => Ok(ftp.size(path).await.ok().map(|s| s as u64)),
            Conn::Tls(ftp) => Ok(ftp.size(path).await.ok().map(|s| s as u64)),
            Conn::Sftp { sftp, .. } => Ok(sftp.metadata(path).await.ok().and_then(|m| m.size)),
        })
        .await
    }

    /// The file at `path`, written to `to`, at most `max_bytes`.
    pub async fn download(&self, path: &str, to: &Path, max_bytes: u64) -> Result<Saved, String> {
        let timeout = self.guard.timeout();
        self.with_conn(async |conn| match conn {
            Conn::Plain(ftp) => ftp_read(ftp, path, to, max_bytes, timeout).await,
            Conn::Tls(ftp) => ftp_read(ftp, path, to, max_bytes, timeout).await,
            Conn::Sftp { sftp, .. } => {
                let file = sftp.open(path).await.map_err(|e| format!("{path}: {e}"))?;
                save(file, to, max_bytes, timeout).await
            }
        })
        .await
    }
}

/// Writes what `reader` gives to `to`, hashing it, at most `max_bytes`,
/// within `timeout`.
async fn save(
    mut reader: impl AsyncRead + Unpin,
    to: &Path,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Saved, String> {
    let work = async {
        let mut saver = Saver::create(to, max_bytes)
            .await
            .map_err(|e| e.to_string())?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = reader.read(&mut buffer).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            saver.push(&buffer[..n]).await.map_err(|e| e.to_string())?;
        }
        saver.finish().await.map_err(|e| e.to_string())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| "no data within the time limit".to_owned())?
}

async fn ftp_read<T>(
    ftp: &mut ImplAsyncFtpStream<T>,
    path: &str,
    to: &Path,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Saved, String>
where
    T: suppaftp::tokio::TokioTlsStream + Send,
{
    let mut stream = ftp
        .retr_as_stream(path)
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let saved = save(&mut stream, to, max_bytes, timeout).await?;
    stream.finish().await.map_err(|e| format!("{path}: {e}"))?;
    Ok(saved)
}

/// A folder's entries by `MLSD` (`LIST` where the server has no `MLSD`);
/// `None` when `path` is not a folder.
async fn ftp_entries<T>(
    ftp: &mut ImplAsyncFtpStream<T>,
    path: &str,
    timeout: Duration,
) -> Result<Option<Vec<Entry>>, String>
where
    T: suppaftp::tokio::TokioTlsStream + Send,
{
    use suppaftp::list::ListParser;
    let work = async {
        if ftp.cwd(path).await.is_err() {
            return Ok(None);
        }
        let (lines, machine) = match ftp.mlsd(None).await {
            Ok(lines) => (lines, true),
            Err(_) => (
                ftp.list(None).await.map_err(|e| format!("{path}: {e}"))?,
                false,
            ),
        };
        let mut entries = Vec::new();
        for line in lines {
            let parsed = if machine {
                ListParser::parse_mlsd(&line)
            } else {
                ListParser::parse_posix(&line).or_else(|_| ListParser::parse_dos(&line))
            };
            let Ok(file) = parsed else { continue };
            if matches!(file.name(), "." | "..") || file.is_symlink() {
                continue;
            }
            entries.push(Entry {
                name: file.name().to_owned(),
                folder: file.is_directory(),
                size: Some(file.size() as u64),
                modified: Some(rfc3339(file.modified())),
            });
        }
        Ok(Some(entries))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("{path}: no answer within the time limit"))?
}

async fn sftp_entries(
    sftp: &SftpSession,
    path: &str,
    timeout: Duration,
) -> Result<Option<Vec<Entry>>, String> {
    let work = async {
        let meta = sftp
            .metadata(path)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        if !meta.is_dir() {
            return Ok(None);
        }
        let mut entries = Vec::new();
        for entry in sftp
            .read_dir(path)
            .await
            .map_err(|e| format!("{path}: {e}"))?
        {
            let name = entry.file_name();
            let meta = entry.metadata();
            if matches!(name.as_str(), "." | "..") || meta.is_symlink() {
                continue;
            }
            entries.push(Entry {
                name,
                folder: meta.is_dir(),
                size: meta.size,
                modified: meta.modified().ok().map(rfc3339),
            });
        }
        Ok(Some(entries))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("{path}: no answer within the time limit"))?
}

/// Accepts the server's key when it is the pinned one, or any key when
/// none is pinned yet (it is then recorded, to be pinned).
struct Pinning {
    pinned: Option<String>,
    shown: Arc<Mutex<Option<String>>>,
}

/// A key as `algorithm base64`, without its comment.
pub fn key_text(key: &PublicKey) -> Option<String> {
    let text = key.to_openssh().ok()?;
    let mut parts = text.split_whitespace();
    Some(format!("{} {}", parts.next()?, parts.next()?))
}

impl russh::client::Handler for Pinning {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        let Some(text) = key_text(key) else {
            return Ok(false);
        };
        if let Ok(mut shown) = self.shown.lock() {
            *shown = Some(text.clone());
        }
        Ok(match &self.pinned {
            Some(pinned) => {
                let mut parts = pinned.split_whitespace();
                let pinned = format!(
                    "{} {}",
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default()
                );
                pinned == text
            }
            None => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use oas_domain::fetch::{Allowed, parse_link};

    use super::*;
    use crate::testing::stand_in;

    const LIMITS: Limits = Limits {
        max_files: 100,
        max_depth: 1,
        max_file_bytes: 1 << 20,
    };

    fn local() -> Guard {
        Guard::new(
            Allowed::parse("127.0.0.1/32").unwrap(),
            Duration::from_secs(10),
        )
    }

    /// A folder tree under the servers' root, its own for each test.
    fn tree(root: &str, name: &str) -> String {
        let top = std::path::Path::new(root).join(name);
        std::fs::create_dir_all(top.join("2024/deep/deeper")).unwrap();
        std::fs::write(top.join("jan.csv"), "isrc,revenue\nX,1.50\n").unwrap();
        std::fs::write(top.join("notes.pdf"), "%PDF").unwrap();
        std::fs::write(top.join("2024/feb.tsv"), "isrc\trevenue\nY\t2\n").unwrap();
        std::fs::write(top.join("2024/deep/mar.csv"), "a\n").unwrap();
        format!("/{name}")
    }

    fn ftp(url: &str, pinned: Option<String>) -> Result<Ftp, Failure> {
        let ca = std::env::var("OAS_TEST_FTP_CA").ok().map(PathBuf::from);
        Ftp::new(&parse_link(url).unwrap(), local(), pinned, ca)
    }

    async fn fetch_all(reader: &Ftp) -> Vec<(String, Vec<u8>)> {
        let listing = reader.list(LIMITS).await.unwrap();
        assert_eq!(
            listing
                .skipped
                .iter()
                .map(|s| (s.path.as_str(), s.kind.as_str()))
                .collect::<Vec<_>>(),
            [("notes.pdf", "unsupported"), ("2024/deep", "too_deep")]
        );
        let mut files = Vec::new();
        for found in listing.found {
            let How::Ftp(path) = &found.how else {
                panic!("an FTP file")
            };
            let dir = tempfile::tempdir().unwrap();
            let to = dir.path().join("file");
            let saved = reader.download(path, &to, 1 << 20).await.unwrap();
            let bytes = std::fs::read(&to).unwrap();
            assert_eq!(saved.size, bytes.len() as u64);
            files.push((found.path.clone(), bytes));
        }
        files
    }

    fn expected() -> Vec<(String, Vec<u8>)> {
        vec![
            ("2024/feb.tsv".to_owned(), b"isrc\trevenue\nY\t2\n".to_vec()),
            ("jan.csv".to_owned(), b"isrc,revenue\nX,1.50\n".to_vec()),
        ]
    }

    #[tokio::test]
    async fn ftp_and_ftps_folders_are_walked_and_read() {
        let (Some(port), Some(root)) =
            (stand_in("OAS_TEST_FTP_PORT"), stand_in("OAS_TEST_FTP_ROOT"))
        else {
            return;
        };
        let path = tree(&root, "ftp-walk");
        for scheme in ["ftp", "ftps"] {
            let url = format!("{scheme}://oas:oas-ftp-secret@127.0.0.1:{port}{path}");
            let reader = ftp(&url, None).unwrap();
            assert_eq!(fetch_all(&reader).await, expected(), "{scheme}");
        }
        // The server's certificate is checked: without the test
        // authority it is not trusted.
        let url = format!("ftps://oas:oas-ftp-secret@127.0.0.1:{port}{path}");
        let untrusted = Ftp::new(&parse_link(&url).unwrap(), local(), None, None).unwrap();
        let failure = untrusted.list(LIMITS).await.unwrap_err();
        assert!(
            failure.message.contains("starting TLS"),
            "{}",
            failure.message
        );
        // A link to one file.
        let url = format!("ftps://oas:oas-ftp-secret@127.0.0.1:{port}{path}/jan.csv");
        let listing = ftp(&url, None).unwrap().list(LIMITS).await.unwrap();
        assert_eq!(listing.found.len(), 1);
        assert_eq!(listing.found[0].size, Some(20));
    }

    #[tokio::test]
    async fn wrong_credentials_say_so_without_the_password() {
        let Some(port) = stand_in("OAS_TEST_FTP_PORT") else {
            return;
        };
        let url = format!("ftp://oas:not-the-password@127.0.0.1:{port}/");
        let failure = ftp(&url, None).unwrap().list(LIMITS).await.unwrap_err();
        assert_eq!(failure.code, FailureCode::Rejected);
        assert!(
            failure.message.contains("refused the login"),
            "{}",
            failure.message
        );
        assert!(!failure.message.contains("not-the-password"));
    }

    #[tokio::test]
    async fn sftp_is_read_and_its_host_key_pinned() {
        let (Some(port), Some(root), Some(key_file)) = (
            stand_in("OAS_TEST_SFTP_PORT"),
            stand_in("OAS_TEST_FTP_ROOT"),
            stand_in("OAS_TEST_SFTP_HOST_KEY"),
        ) else {
            return;
        };
        let path = tree(&root, "sftp-walk");
        let url = format!("sftp://oas:oas-sftp-secret@127.0.0.1:{port}{path}");
        let first = ftp(&url, None).unwrap();
        assert_eq!(fetch_all(&first).await, expected());
        let server_key = std::fs::read_to_string(key_file).unwrap();
        let shown = first.host_key().expect("the key seen");
        assert!(server_key.starts_with(&shown), "{shown} vs {server_key}");

        // Pinned: the same key passes, another is refused.
        let again = ftp(&url, Some(shown)).unwrap();
        assert_eq!(again.list(LIMITS).await.unwrap().found.len(), 2);
        let other =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        let failure = ftp(&url, Some(other.to_owned()))
            .unwrap()
            .list(LIMITS)
            .await
            .unwrap_err();
        assert!(
            failure.message.contains("host key other than"),
            "{}",
            failure.message
        );

        let wrong = format!("sftp://oas:wrong@127.0.0.1:{port}{path}");
        let failure = ftp(&wrong, None).unwrap().list(LIMITS).await.unwrap_err();
        assert!(
            failure.message.contains("refused the login"),
            "{}",
            failure.message
        );
    }

    #[tokio::test]
    async fn private_addresses_are_refused_before_connecting() {
        for url in [
            "ftp://10.0.0.1/reports",
            "ftps://169.254.169.254/",
            "sftp://u:p@[::ffff:127.0.0.1]/",
            "ftp://127.0.0.2/",
        ] {
            let failure = ftp(url, None).unwrap().list(LIMITS).await.unwrap_err();
            assert!(
                failure.message.contains("OAS does not fetch from it"),
                "{url}: {}",
                failure.message
            );
        }
    }
}
