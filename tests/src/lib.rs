//! Multi-process integration test harness (being written).
