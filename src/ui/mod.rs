//! Building blocks shared by the pages: the console layout, navigation, formatting.

pub mod chart;
pub mod confirm;
pub mod copy;
pub mod filters;
pub mod format;
pub mod guard;
pub mod layout;
pub mod nav;
pub mod theme;
pub mod time;
pub mod toast;
