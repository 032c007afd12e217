use std::fmt;
use std::path::{Path, PathBuf};

use super::StorageError;

/// A validated object key: `/`-separated segments of letters, digits and
/// `. _ - = + @ ,` (no empty, `.` or `..` segment, no leading slash), at
/// most 1024 bytes. Such a key maps to a path inside a storage root and
/// can never leave it, and needs no quoting in S3.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub const MAX_LEN: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, StorageError> {
        let invalid = |why: &str| StorageError::InvalidKey(format!("{raw:?}: {why}"));
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(invalid("a key has 1 to 1024 bytes"));
        }
        for segment in raw.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(invalid("empty, '.' and '..' segments are not allowed"));
            }
            let allowed = |c: char| c.is_ascii_alphanumeric() || "._-=+@,".contains(c);
            if !segment.chars().all(allowed) {
                return Err(invalid(
                    "only letters, digits and . _ - = + @ , are allowed",
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// `self/child`, validated.
    pub fn join(&self, child: &str) -> Result<Self, StorageError> {
        Self::parse(&format!("{}/{child}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path of this key under `root`.
    pub fn path_under(&self, root: &Path) -> PathBuf {
        self.0
            .split('/')
            .fold(root.to_path_buf(), |path, segment| path.join(segment))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_or_carry_odd_characters() {
        assert!(ObjectKey::parse("org-7/files/42/report_2023-10.csv").is_ok());
        for bad in [
            "",
            "/abs",
            "a//b",
            "../x",
            "a/../../etc/passwd",
            "a/./b",
            "a\\b",
            "tab\there",
            "a/",
            "ümlaut",
            "q?x=1",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ObjectKey::parse(&"a".repeat(1025)).is_err());
        let key = ObjectKey::parse("a/b/c.txt").unwrap();
        assert_eq!(
            key.path_under(Path::new("/root")),
            Path::new("/root/a/b/c.txt")
        );
        assert!(key.join("..").is_err());
    }
}
