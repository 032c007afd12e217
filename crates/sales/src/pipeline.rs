//! An ordered pipeline: blocks of a file read on one thread, worked on by
//! every core, and their results taken back in the file's order, stopping
//! at the first fault in that order. Cleaning (`oas-uploads`) and importing
//! (`oas-importer`) both read a large file this way.
//!
//! ```text
//! read ──► [block 0, block 1, …] ──► workers (each with its own state)
//!                                        │ results, in any order
//!                                        ▼
//!                  reorder buffer ──► take, in the file's order
//! ```
//!
//! A fault, wherever it is found (a worker, `take`, `read`), stops the
//! reading; blocks after the first fault in the file's order are not
//! worked on, and blocks before it are all taken, so the fault reported is
//! the first in the file whichever worker met it first. [`Spares`] hands
//! buffers back to the reader, so a file is read with a few buffers
//! whatever its size.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// No fault yet.
const NONE: usize = usize::MAX;

/// Buffers handed back for reuse; bounded, and never waited on.
pub struct Spares<T> {
    sender: SyncSender<T>,
    receiver: Mutex<Receiver<T>>,
}

impl<T: Send> Spares<T> {
    pub fn new(capacity: usize) -> Self {
        let (sender, receiver) = sync_channel(capacity);
        Spares {
            sender,
            receiver: Mutex::new(receiver),
        }
    }

    /// A buffer handed back, if one is waiting.
    pub fn take(&self) -> Option<T> {
        self.receiver.lock().ok()?.try_recv().ok()
    }

    /// Hands a buffer back; dropped when enough are waiting.
    pub fn give(&self, spare: T) {
        let _ = self.sender.try_send(spare);
    }
}

/// A worker's answer for one block.
enum Outcome<R, E> {
    Done(R),
    Failed(E),
    /// After a fault in the file's order: not worked on.
    Skipped,
}

/// Runs `read` on a thread of its own until it answers `None`, `work` on a
/// thread for each of `states` (each worker's own), and `take` on the
/// calling thread, in the order `read` produced the blocks. Returns the
/// workers' states (to merge what they gathered), or the first fault in the
/// file's order; a fault of `read` comes after the faults of the blocks it
/// read before it.
pub fn in_file_order<B, R, W, E>(
    states: Vec<W>,
    mut read: impl FnMut() -> Result<Option<B>, E> + Send,
    work: impl Fn(&mut W, B) -> Result<R, E> + Sync,
    mut take: impl FnMut(R) -> Result<(), E>,
) -> Result<Vec<W>, E>
where
    B: Send,
    R: Send,
    W: Send,
    E: Send,
{
    let workers = states.len().max(1);
    // The index of the first block known to be at fault.
    let first_fault = AtomicUsize::new(NONE);
    let (to_workers, blocks) = sync_channel::<(usize, B)>(workers);
    let blocks = Mutex::new(blocks);
    let (to_taker, results) = sync_channel::<(usize, Outcome<R, E>)>(workers * 2);
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(workers);
        for mut mine in states {
            let to_taker = to_taker.clone();
            let (blocks, first_fault, work) = (&blocks, &first_fault, &work);
            handles.push(scope.spawn(move || {
                loop {
                    let next = match blocks.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => break,
                    };
                    let Ok((index, block)) = next else { break };
                    let outcome = if index > first_fault.load(Ordering::Relaxed) {
                        Outcome::Skipped
                    } else {
                        match work(&mut mine, block) {
                            Ok(result) => Outcome::Done(result),
                            Err(fault) => {
                                first_fault.fetch_min(index, Ordering::Relaxed);
                                Outcome::Failed(fault)
                            }
                        }
                    };
                    if to_taker.send((index, outcome)).is_err() {
                        break;
                    }
                }
                mine
            }));
        }
        drop(to_taker);
        let first_fault = &first_fault;
        let reader = scope.spawn(move || {
            let mut index = 0;
            while first_fault.load(Ordering::Relaxed) == NONE {
                match read() {
                    Ok(Some(block)) => {
                        if to_workers.send((index, block)).is_err() {
                            break;
                        }
                        index += 1;
                    }
                    Ok(None) => break,
                    Err(fault) => return Err(fault),
                }
            }
            Ok(())
        });

        // The reorder buffer: results wait here until those before them
        // are taken.
        let mut waiting: BTreeMap<usize, Outcome<R, E>> = BTreeMap::new();
        let mut next = 0usize;
        let mut fault: Option<E> = None;
        for (index, outcome) in results.iter() {
            if fault.is_some() {
                // Drained, so no worker is left waiting to send.
                continue;
            }
            waiting.insert(index, outcome);
            while let Some(outcome) = waiting.remove(&next) {
                let taken = match outcome {
                    Outcome::Done(result) => take(result),
                    Outcome::Failed(e) => Err(e),
                    // Only blocks after a fault are skipped, and the fault
                    // is met first.
                    Outcome::Skipped => Ok(()),
                };
                if let Err(e) = taken {
                    first_fault.fetch_min(next, Ordering::Relaxed);
                    fault = Some(e);
                    waiting.clear();
                    break;
                }
                next += 1;
            }
        }
        let read = reader.join().unwrap_or(Ok(()));
        let mut states = Vec::with_capacity(handles.len());
        for handle in handles {
            if let Ok(mine) = handle.join() {
                states.push(mine);
            }
        }
        match (fault, read) {
            (Some(fault), _) => Err(fault),
            (None, Err(fault)) => Err(fault),
            (None, Ok(())) => Ok(states),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks 0..n, each worked on by adding it to the worker's sum.
    fn run(
        n: usize,
        workers: usize,
        bad_work: Option<usize>,
        bad_take: Option<usize>,
        bad_read: Option<usize>,
    ) -> (Result<u64, String>, Vec<usize>) {
        let mut next = 0;
        let mut taken = Vec::new();
        let result = in_file_order(
            vec![0u64; workers],
            || {
                if Some(next) == bad_read {
                    return Err(format!("read {next}"));
                }
                next += 1;
                Ok((next <= n).then_some(next - 1))
            },
            |sum, block| {
                // Later blocks finish first, as on a busy machine.
                std::thread::sleep(std::time::Duration::from_micros(
                    ((n - block) % 7) as u64 * 50,
                ));
                if Some(block) == bad_work {
                    return Err(format!("work {block}"));
                }
                *sum += block as u64;
                Ok(block)
            },
            |block| {
                if Some(block) == bad_take {
                    return Err(format!("take {block}"));
                }
                taken.push(block);
                Ok(())
            },
        )
        .map(|sums| sums.iter().sum());
        (result, taken)
    }

    #[test]
    fn every_block_is_taken_once_in_order_and_every_worker_state_returned() {
        for workers in [1, 2, 5] {
            let (sum, taken) = run(200, workers, None, None, None);
            assert_eq!(sum, Ok((0..200).sum()), "{workers} workers");
            assert_eq!(taken, (0..200).collect::<Vec<_>>());
        }
        let (sum, taken) = run(0, 3, None, None, None);
        assert_eq!((sum, taken), (Ok(0), vec![]));
    }

    #[test]
    fn the_first_fault_in_the_files_order_wins_and_every_block_before_it_is_taken() {
        for workers in [1, 3] {
            let (result, taken) = run(100, workers, Some(40), None, None);
            assert_eq!(result, Err("work 40".to_owned()));
            assert_eq!(taken, (0..40).collect::<Vec<_>>());
            let (result, taken) = run(100, workers, None, Some(17), None);
            assert_eq!(result, Err("take 17".to_owned()));
            assert_eq!(taken, (0..17).collect::<Vec<_>>());
            let (result, taken) = run(100, workers, Some(60), Some(30), None);
            assert_eq!(result, Err("take 30".to_owned()), "the earlier fault");
            assert_eq!(taken.len(), 30);
        }
    }

    #[test]
    fn a_fault_in_reading_comes_after_the_blocks_read_before_it() {
        let (result, taken) = run(100, 2, None, None, Some(25));
        assert_eq!(result, Err("read 25".to_owned()));
        assert_eq!(taken, (0..25).collect::<Vec<_>>());
        let (result, _) = run(100, 2, Some(10), None, Some(25));
        assert_eq!(result, Err("work 10".to_owned()), "a block's fault first");
    }

    #[test]
    fn spares_are_handed_back_without_waiting() {
        let spares = Spares::new(2);
        assert_eq!(spares.take(), None::<Vec<u8>>);
        spares.give(vec![1]);
        spares.give(vec![2]);
        spares.give(vec![3]);
        assert_eq!(spares.take(), Some(vec![1]));
        assert_eq!(spares.take(), Some(vec![2]));
        assert_eq!(spares.take(), None, "the third was dropped");
    }
}
