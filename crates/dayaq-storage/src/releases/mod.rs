mod records;
pub use records::*;
