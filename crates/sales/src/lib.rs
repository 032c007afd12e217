//! The data engine: reading sales reports as they come. Used by the
//! modules only; the gateway never links it.

pub mod cells;
pub mod dates;
pub mod decode;
pub mod dsr;
pub mod format;
pub mod ids;
pub mod names;
pub mod numbers;
pub mod pipeline;
pub mod sniff;
pub mod territory;
