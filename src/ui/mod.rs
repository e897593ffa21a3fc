//! Building blocks shared by the pages: the console layout, navigation, formatting.

pub mod format;
pub mod layout;
pub mod nav;
pub mod theme;
