//! The parameters each side announces in `open_channel`/`accept_channel`, our own policy for
//! them, their validation, and `channel_type` negotiation (BOLT 2 "The `open_channel`
//! Message", "The `accept_channel` Message", "Defined Channel Types").

use fulgur_bolt3::ChannelType;
use fulgur_types::features::{self, Features};
use serde::{Deserialize, Serialize};

use crate::error::ChannelError;

/// The most HTLCs BOLT 2 lets a side accept.
pub const MAX_ACCEPTED_HTLCS_LIMIT: u16 = 483;
pub use fulgur_bolt3::fees::MIN_DUST_LIMIT_SAT;
/// The largest `dust_limit_satoshis` we accept from a peer (a policy: larger values let a
/// peer turn more HTLCs into miner fees).
pub const MAX_DUST_LIMIT_SAT: u64 = 20_000;
/// `funding_satoshis` at or above this need `option_support_large_channel` (which we always
/// support and advertise).
pub const LARGE_CHANNEL_SAT: u64 = 1 << 24;
/// The largest `cltv_expiry` an HTLC may have (BOLT 2: below 500,000,000, a block height).
pub const MAX_CLTV_EXPIRY: u32 = 500_000_000;

/// This node's policy for its channels, from the config options of the same names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalConfig {
    /// Our `dust_limit_satoshis`.
    pub dust_limit_sat: u64,
    /// Our `max_htlc_value_in_flight_msat` (capped at the channel's capacity).
    pub max_htlc_value_in_flight_msat: u64,
    /// Our `htlc_minimum_msat` (`htlc-minimum-msat`).
    pub htlc_minimum_msat: u64,
    /// The delay we impose on the peer's outputs (`watchtime-blocks`).
    pub to_self_delay: u16,
    /// The most HTLCs the peer may offer us (`max-concurrent-htlcs`).
    pub max_accepted_htlcs: u16,
    /// Confirmations we ask for before `channel_ready` (`funding-confirms`).
    pub minimum_depth: u32,
    /// The longest `to_self_delay` we accept from a peer (`max-locktime-blocks`).
    pub max_to_self_delay: u16,
    /// The largest `minimum_depth` we accept from a peer.
    pub max_minimum_depth: u32,
    /// Most value in trimmed HTLCs a commitment may hold (`max-dust-htlc-exposure-msat`).
    pub max_dust_htlc_exposure_msat: u64,
    /// The smallest channel we accept (`min-capacity-sat`).
    pub min_funding_sat: u64,
    /// The reserve we ask the peer to keep, in percent of the capacity (at least our dust
    /// limit).
    pub reserve_percent: u64,
    /// The largest reserve we accept keeping, in percent of the capacity.
    pub max_reserve_percent: u64,
}

impl Default for LocalConfig {
    fn default() -> LocalConfig {
        LocalConfig {
            dust_limit_sat: 546,
            max_htlc_value_in_flight_msat: u64::MAX,
            htlc_minimum_msat: 0,
            to_self_delay: 144,
            max_accepted_htlcs: 30,
            minimum_depth: 3,
            max_to_self_delay: 2016,
            max_minimum_depth: 100,
            max_dust_htlc_exposure_msat: 50_000_000,
            min_funding_sat: 10_000,
            reserve_percent: 1,
            max_reserve_percent: 20,
        }
    }
}

/// What one side announced in `open_channel` or `accept_channel`. Each limit is what that
/// side imposes on (or promises to) the other, as BOLT 2 defines the fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyParams {
    /// Outputs below this are left out of this side's commitment.
    pub dust_limit_sat: u64,
    /// The most value in HTLCs the other side may offer this side at once.
    pub max_htlc_value_in_flight_msat: u64,
    /// What the other side must keep in the channel.
    pub channel_reserve_sat: u64,
    /// The smallest HTLC this side accepts.
    pub htlc_minimum_msat: u64,
    /// The delay this side imposes on the other side's `to_local` output.
    pub to_self_delay: u16,
    /// The most HTLCs the other side may offer this side at once.
    pub max_accepted_htlcs: u16,
}

impl LocalConfig {
    /// Our parameters for a channel of `funding_sat`.
    pub fn party_params(&self, funding_sat: u64) -> PartyParams {
        let reserve =
            (funding_sat.saturating_mul(self.reserve_percent) / 100).max(self.dust_limit_sat);
        PartyParams {
            dust_limit_sat: self.dust_limit_sat,
            max_htlc_value_in_flight_msat: self
                .max_htlc_value_in_flight_msat
                .min(funding_sat.saturating_mul(1000)),
            channel_reserve_sat: reserve,
            htlc_minimum_msat: self.htlc_minimum_msat,
            to_self_delay: self.to_self_delay,
            max_accepted_htlcs: self.max_accepted_htlcs.clamp(1, MAX_ACCEPTED_HTLCS_LIMIT),
        }
    }

    /// Checks the peer's parameters against BOLT 2's rules and our policy, for a channel of
    /// `funding_sat` in which we announced `ours`.
    pub fn check_remote_params(
        &self,
        theirs: &PartyParams,
        ours: &PartyParams,
        funding_sat: u64,
    ) -> Result<(), ChannelError> {
        let fail = |m: String| Err(ChannelError::fail(m));
        if theirs.to_self_delay > self.max_to_self_delay {
            return fail(format!(
                "to_self_delay {} is more than our limit {}",
                theirs.to_self_delay, self.max_to_self_delay
            ));
        }
        if theirs.max_accepted_htlcs == 0 || theirs.max_accepted_htlcs > MAX_ACCEPTED_HTLCS_LIMIT {
            return fail(format!(
                "max_accepted_htlcs {} is not between 1 and {MAX_ACCEPTED_HTLCS_LIMIT}",
                theirs.max_accepted_htlcs
            ));
        }
        if theirs.dust_limit_sat < MIN_DUST_LIMIT_SAT {
            return fail(format!(
                "dust_limit_satoshis {} is below {MIN_DUST_LIMIT_SAT}",
                theirs.dust_limit_sat
            ));
        }
        if theirs.dust_limit_sat > MAX_DUST_LIMIT_SAT {
            return fail(format!(
                "dust_limit_satoshis {} is above our limit {MAX_DUST_LIMIT_SAT}",
                theirs.dust_limit_sat
            ));
        }
        if theirs.dust_limit_sat > theirs.channel_reserve_sat {
            return fail(format!(
                "dust_limit_satoshis {} is greater than channel_reserve_satoshis {}",
                theirs.dust_limit_sat, theirs.channel_reserve_sat
            ));
        }
        if theirs.channel_reserve_sat < ours.dust_limit_sat {
            return fail(format!(
                "channel_reserve_satoshis {} is less than our dust_limit_satoshis {}",
                theirs.channel_reserve_sat, ours.dust_limit_sat
            ));
        }
        if ours.channel_reserve_sat < theirs.dust_limit_sat {
            return fail(format!(
                "our channel_reserve_satoshis {} is less than their dust_limit_satoshis {}",
                ours.channel_reserve_sat, theirs.dust_limit_sat
            ));
        }
        if theirs.channel_reserve_sat > funding_sat.saturating_mul(self.max_reserve_percent) / 100 {
            return fail(format!(
                "channel_reserve_satoshis {} is more than {}% of the channel",
                theirs.channel_reserve_sat, self.max_reserve_percent
            ));
        }
        if theirs.htlc_minimum_msat >= funding_sat.saturating_mul(1000) {
            return fail(format!(
                "htlc_minimum_msat {} is not below the channel capacity",
                theirs.htlc_minimum_msat
            ));
        }
        if theirs.max_htlc_value_in_flight_msat == 0 {
            return fail("max_htlc_value_in_flight_msat is 0".to_string());
        }
        Ok(())
    }
}

/// `channel_type` bits (BOLT 2 "Defined Channel Types").
fn channel_type_features(channel_type: ChannelType) -> Features {
    let mut f = Features::new();
    f.set_required(features::OPTION_STATIC_REMOTEKEY);
    if channel_type.has_anchors() {
        f.set_required(features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX);
    }
    f
}

/// The `channel_type` TLV value for a channel type.
pub fn channel_type_to_features(channel_type: ChannelType) -> Features {
    channel_type_features(channel_type)
}

/// The channel type a `channel_type` TLV names, if it is one we support: exactly
/// `option_static_remotekey`, or it with `option_anchors`.
pub fn channel_type_from_features(f: &Features) -> Option<ChannelType> {
    let bits: Vec<usize> = f.set_bits().collect();
    match bits.as_slice() {
        [12] => Some(ChannelType::StaticRemoteKey),
        [12, 22] => Some(ChannelType::AnchorsZeroFeeHtlcTx),
        _ => None,
    }
}

/// The type we propose to a peer with init `their_features`: anchors when both support
/// them (ldk-node and CLN prefer them), `option_static_remotekey` otherwise.
pub fn preferred_channel_type(ours: &Features, theirs: &Features) -> ChannelType {
    if ours.supports(features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX)
        && theirs.supports(features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX)
    {
        ChannelType::AnchorsZeroFeeHtlcTx
    } else {
        ChannelType::StaticRemoteKey
    }
}

/// Serde for [`ChannelType`], stored as a stable name.
pub(crate) mod channel_type_serde {
    use fulgur_bolt3::ChannelType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &ChannelType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match t {
            ChannelType::StaticRemoteKey => "static_remotekey",
            ChannelType::AnchorsZeroFeeHtlcTx => "anchors_zero_fee_htlc_tx",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ChannelType, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "static_remotekey" => Ok(ChannelType::StaticRemoteKey),
            "anchors_zero_fee_htlc_tx" => Ok(ChannelType::AnchorsZeroFeeHtlcTx),
            other => Err(serde::de::Error::custom(format!(
                "unknown channel type {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_types_round_trip_and_unknown_ones_are_refused() {
        for t in [
            ChannelType::StaticRemoteKey,
            ChannelType::AnchorsZeroFeeHtlcTx,
        ] {
            assert_eq!(
                channel_type_from_features(&channel_type_to_features(t)),
                Some(t)
            );
        }
        assert_eq!(
            channel_type_from_features(&Features::from_bits([12, 22, 50])),
            None
        );
        assert_eq!(channel_type_from_features(&Features::from_bits([13])), None);
        assert_eq!(channel_type_from_features(&Features::new()), None);
    }

    #[test]
    fn remote_params_out_of_bounds_fail_the_channel() {
        let cfg = LocalConfig::default();
        let ours = cfg.party_params(1_000_000);
        let good = PartyParams {
            dust_limit_sat: 546,
            max_htlc_value_in_flight_msat: 1_000_000_000,
            channel_reserve_sat: 10_000,
            htlc_minimum_msat: 1,
            to_self_delay: 144,
            max_accepted_htlcs: 30,
        };
        assert!(cfg.check_remote_params(&good, &ours, 1_000_000).is_ok());
        let bad: Vec<PartyParams> = vec![
            PartyParams {
                to_self_delay: 5000,
                ..good.clone()
            },
            PartyParams {
                max_accepted_htlcs: 484,
                ..good.clone()
            },
            PartyParams {
                max_accepted_htlcs: 0,
                ..good.clone()
            },
            PartyParams {
                dust_limit_sat: 353,
                ..good.clone()
            },
            PartyParams {
                dust_limit_sat: 20_001,
                channel_reserve_sat: 30_000,
                ..good.clone()
            },
            PartyParams {
                dust_limit_sat: 10_001,
                ..good.clone()
            },
            PartyParams {
                channel_reserve_sat: 500_000,
                ..good.clone()
            },
            PartyParams {
                channel_reserve_sat: 545,
                dust_limit_sat: 400,
                ..good.clone()
            },
            PartyParams {
                htlc_minimum_msat: 1_000_000_000,
                ..good.clone()
            },
            PartyParams {
                max_htlc_value_in_flight_msat: 0,
                ..good.clone()
            },
        ];
        for b in bad {
            let e = cfg.check_remote_params(&b, &ours, 1_000_000);
            assert!(e.is_err(), "{b:?} accepted");
        }
    }
}
