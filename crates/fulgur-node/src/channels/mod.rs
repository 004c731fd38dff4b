//! The channel manager: one task owns every channel machine (`fulgur-channel`) and every
//! open in progress. Peer messages, RPC requests and chain events reach it by message; it
//! carries out the machines' actions in order, and a step's `Persist` is committed to the
//! database before any message or transaction of that step leaves the node.

mod chain;
mod handle;
mod htlcs;
mod list;
mod manager;
mod opening;
mod policy;
mod reconnect;
mod watch;

pub use handle::{request_channel, ChannelsHandle, CloseRequest, FundStart, Request, StartedOpen};
pub use htlcs::ListHtlcs;
pub(crate) use list::channel_type_json;
pub use manager::{spawn, Inputs};
pub use policy::SetChannel;
pub use watch::{ChainEvent, FundingWatch};

/// Our channel policy from the config options of the same names.
pub fn local_config(config: &fulgur_config::Config) -> fulgur_channel::LocalConfig {
    let d = fulgur_channel::LocalConfig::default();
    let u16_of = |name: &str, default: u16| {
        config
            .get_u64(name)
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(default)
    };
    fulgur_channel::LocalConfig {
        to_self_delay: u16_of("watchtime-blocks", d.to_self_delay),
        max_to_self_delay: u16_of("max-locktime-blocks", d.max_to_self_delay),
        max_accepted_htlcs: u16_of("max-concurrent-htlcs", d.max_accepted_htlcs),
        minimum_depth: config
            .get_u64("funding-confirms")
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(d.minimum_depth),
        htlc_minimum_msat: config
            .get_u64("htlc-minimum-msat")
            .unwrap_or(d.htlc_minimum_msat),
        max_dust_htlc_exposure_msat: config
            .get_u64("max-dust-htlc-exposure-msat")
            .unwrap_or(d.max_dust_htlc_exposure_msat),
        min_funding_sat: config
            .get_u64("min-capacity-sat")
            .unwrap_or(d.min_funding_sat),
        ..d
    }
}
