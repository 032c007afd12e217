//! Archives and gzip: what is inside, expanded within limits (members,
//! a ratio per member, a total size) counted on the bytes actually inflated.

use super::*;

pub(super) fn gunzip(input: &Path, output: &Path, limits: &Limits) -> Result<(), Refusal> {
    let file = File::open(input).map_err(io)?;
    let compressed = file.metadata().map_err(io)?.len().max(1);
    // Every member of a concatenated gzip, within both limits.
    let budget = limits
        .max_expanded_bytes
        .min(compressed.saturating_mul(limits.max_ratio));
    let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file)).take(budget + 1);
    let mut out = BufWriter::new(File::create(output).map_err(io)?);
    let mut block = vec![0u8; 1 << 16];
    let mut written = 0u64;
    loop {
        let read = decoder
            .read(&mut block)
            .map_err(|e| Refusal::Corrupt(format!("The gzip file is damaged: {e}.")))?;
        if read == 0 {
            break;
        }
        out.write_all(&block[..read]).map_err(io)?;
        written += read as u64;
    }
    out.flush().map_err(io)?;
    if written > budget {
        return Err(Refusal::TooLarge(format!(
            "The gzip file expands to more than {budget} bytes: at most {}-fold and {} bytes in all are read.",
            limits.max_ratio, limits.max_expanded_bytes
        )));
    }
    Ok(())
}

/// Expands a ZIP archive's members into `work/members`, within the limits.
pub(super) fn archive(input: &Path, work: &Path, limits: &Limits) -> Result<Archive, Refusal> {
    let file = File::open(input).map_err(io)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| Refusal::Corrupt(format!("The ZIP archive is damaged: {e}.")))?;
    if zip.len() > limits.max_members * 4 {
        return Err(Refusal::TooLarge(format!(
            "The archive holds {} entries; at most {} are read.",
            zip.len(),
            limits.max_members
        )));
    }
    let folder = work.join("members");
    std::fs::create_dir_all(&folder).map_err(io)?;
    let (mut members, mut skipped) = (Vec::new(), Vec::new());
    let mut expanded = 0u64;
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| Refusal::Corrupt(format!("The ZIP archive is damaged: {e}.")))?;
        let raw_name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("entry {index}"));
        if entry.is_dir() {
            continue;
        }
        let Some(safe) = entry.enclosed_name() else {
            skipped.push(Skipped {
                name: raw_name,
                reason: "its path leads outside the archive".into(),
            });
            continue;
        };
        let base = safe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if base.starts_with('.') || raw_name.starts_with("__MACOSX/") {
            skipped.push(Skipped {
                name: raw_name,
                reason: "system file".into(),
            });
            continue;
        }
        if entry.encrypted() {
            skipped.push(Skipped {
                name: raw_name,
                reason: "encrypted".into(),
            });
            continue;
        }
        let lower = base.to_ascii_lowercase();
        if [".zip", ".pdf", ".png", ".jpg", ".jpeg", ".doc", ".docx"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            skipped.push(Skipped {
                name: raw_name,
                reason: "not a sales report type (nested archives are not expanded)".into(),
            });
            continue;
        }
        if members.len() == limits.max_members {
            return Err(Refusal::TooLarge(format!(
                "The archive holds more than {} files.",
                limits.max_members
            )));
        }
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared / compressed > limits.max_ratio {
            return Err(Refusal::TooLarge(format!(
                "{raw_name} expands {}-fold; more than {} looks like an archive bomb.",
                declared / compressed,
                limits.max_ratio
            )));
        }
        let budget = limits.max_expanded_bytes.saturating_sub(expanded);
        let path = folder.join(format!("{}", members.len()));
        let mut out = BufWriter::new(File::create(&path).map_err(io)?);
        let written = std::io::copy(&mut (&mut entry).take(budget + 1), &mut out)
            .map_err(|e| Refusal::Corrupt(format!("{raw_name} in the archive is damaged: {e}.")))?;
        out.flush().map_err(io)?;
        expanded += written;
        if written > budget {
            return Err(Refusal::TooLarge(format!(
                "The archive expands to more than {} bytes.",
                limits.max_expanded_bytes
            )));
        }
        if written / compressed > limits.max_ratio {
            return Err(Refusal::TooLarge(format!(
                "{raw_name} expands more than {}-fold; that looks like an archive bomb.",
                limits.max_ratio
            )));
        }
        members.push(Member {
            name: base,
            size: written,
            path,
        });
    }
    if members.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(Archive { members, skipped })
}
