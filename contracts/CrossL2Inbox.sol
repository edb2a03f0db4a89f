// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The interop message identifier (specs/interop/messaging.md).
struct Identifier {
    address origin;
    uint256 blockNumber;
    uint256 logIndex;
    uint256 timestamp;
    uint256 chainId;
}

/// The devnet's CrossL2Inbox: the real predeploy's rule (specs/interop/predeploys.md, the reference implementation of
/// validateMessage: "revert NonDeclaredExecutingMessage" unless "_isWarm(checksum)"), ported from the optimism
/// monorepo's packages/contracts-bedrock/src/L2/CrossL2Inbox.sol. validateMessage emits ExecutingMessage only when
/// the transaction's EIP-2930 access list declared the message's checksum: then the checksum's storage slot of this
/// contract is warm from the start (EIP-2929) and reading it costs 100 gas instead of 2,100. The predeploy keeps no
/// other storage and nothing else here reads any ("No other contract function may warm up this storage without
/// message validation"). Nothing is simplified: the rule needs no other predeploy.
contract CrossL2Inbox {
    /// The checksum's slot was cold: the transaction did not declare the message (the deployed contract's name for
    /// the spec's NonDeclaredExecutingMessage).
    error NotInAccessList();
    /// The checksum packs the block number and timestamp as uint64 and the log index as uint32.
    error BlockNumberTooHigh();
    error TimestampTooHigh();
    error LogIndexTooHigh();

    event ExecutingMessage(bytes32 indexed msgHash, Identifier id);

    /// A warm SLOAD costs 100 gas and a cold one 2,100 (EIP-2929); a read that costs more than this was cold.
    uint256 internal constant WARM_READ_THRESHOLD = 1000;

    function validateMessage(Identifier calldata _id, bytes32 _msgHash) external {
        (bool warm,) = _isWarm(calculateChecksum(_id, _msgHash));
        if (!warm) revert NotInAccessList();
        emit ExecutingMessage(_msgHash, _id);
    }

    /// The access-list checksum of predeploys.md, "type 3: Checksum": logHash = H(bytes20(idOrigin) ++ msgHash);
    /// idPacked = bytes12(0) ++ idBlockNumber ++ idTimestamp ++ idLogIndex; idLogHash = H(logHash ++ idPacked);
    /// bareChecksum = H(idLogHash ++ idChainID); checksum = typeByte ++ bareChecksum[1:], typeByte 0x03.
    function calculateChecksum(Identifier calldata _id, bytes32 _msgHash) public pure returns (bytes32) {
        if (_id.blockNumber > type(uint64).max) revert BlockNumberTooHigh();
        if (_id.logIndex > type(uint32).max) revert LogIndexTooHigh();
        if (_id.timestamp > type(uint64).max) revert TimestampTooHigh();
        bytes32 logHash = keccak256(abi.encodePacked(_id.origin, _msgHash));
        bytes32 idPacked =
            bytes32(abi.encodePacked(uint96(0), uint64(_id.blockNumber), uint64(_id.timestamp), uint32(_id.logIndex)));
        bytes32 idLogHash = keccak256(abi.encodePacked(logHash, idPacked));
        bytes32 bareChecksum = keccak256(abi.encodePacked(idLogHash, _id.chainId));
        return (bareChecksum & bytes32(~uint256(0xff << 248))) | bytes32(uint256(0x03 << 248));
    }

    /// Whether `_slot` was warm, by the gas its SLOAD costs. The value read is returned so that the compiler keeps
    /// the SLOAD whose cost is measured.
    function _isWarm(bytes32 _slot) internal view returns (bool warm_, uint256 value_) {
        assembly {
            let before := gas()
            value_ := sload(_slot)
            warm_ := iszero(gt(sub(before, gas()), WARM_READ_THRESHOLD))
        }
    }
}
