//! The report's bytes, compressed on a thread of their own: the lines are
//! read and formatted on one core while gzip works on another. Formatted
//! CSV is handed over in blocks of [`BLOCK`] bytes through a short queue,
//! so memory stays a few blocks whatever the report's size.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Bytes handed to the compressor at a time.
const BLOCK: usize = 1 << 20;
/// Blocks waiting for the compressor, at most.
const QUEUE: usize = 4;

/// Writes what it is given, gzipped, to a file, on its own thread.
pub struct Gzipped {
    block: Vec<u8>,
    to: Option<SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<io::Result<u64>>>,
}

impl Gzipped {
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        let (to, from) = sync_channel::<Vec<u8>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("report-gzip".into())
            .spawn(move || {
                let mut gzip = GzEncoder::new(BufWriter::new(file), Compression::default());
                for block in from {
                    gzip.write_all(&block)?;
                }
                let mut out = gzip.finish()?;
                out.flush()?;
                let file = out.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                Ok(file.metadata()?.len())
            })?;
        Ok(Self {
            block: Vec::with_capacity(BLOCK),
            to: Some(to),
            thread: Some(thread),
        })
    }

    fn hand_over(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let sent = self.to.as_ref().map(|to| to.send(block));
        match sent {
            Some(Ok(())) => Ok(()),
            // The compressor stopped: its error is what `finish` reports.
            _ => Err(io::Error::other("the compressor stopped")),
        }
    }

    /// Writes what is left and waits for the file: its size in bytes.
    pub fn finish(mut self) -> io::Result<u64> {
        let handed = self.hand_over();
        self.to = None;
        let written = self
            .thread
            .take()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(io::Error::other("the compressor panicked")))
            })
            .unwrap_or_else(|| Err(io::Error::other("finished twice")));
        let bytes = written?;
        handed?;
        Ok(bytes)
    }
}

impl Write for Gzipped {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.block.extend_from_slice(bytes);
        if self.block.len() >= BLOCK {
            self.hand_over()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Gzipped {
    fn drop(&mut self) {
        self.to = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
