// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The faulty inbox: a CrossL2Inbox that ignores the access list. Like a faulty inbox or sequencer, it emits
/// ExecutingMessage for whatever it is given, so tests can forge logs that the real inbox (CrossL2Inbox.sol) would
/// refuse: undeclared in the transaction's access list, or malformed. The devnet helpers put it at the inbox address
/// only for the transactions that forge (src/devnet/devnet.ts).
contract DevInbox {
    struct Identifier {
        address origin;
        uint256 blockNumber;
        uint256 logIndex;
        uint256 timestamp;
        uint256 chainId;
    }

    event ExecutingMessage(bytes32 indexed msgHash, Identifier id);

    function validateMessage(Identifier calldata _id, bytes32 _msgHash) external {
        emit ExecutingMessage(_msgHash, _id);
    }

    /// Many executing messages in one transaction, for benchmarks with hundreds of messages per block.
    function validateMessages(Identifier[] calldata _ids, bytes32[] calldata _msgHashes) external {
        require(_ids.length == _msgHashes.length, "length mismatch");
        for (uint256 i = 0; i < _ids.length; i++) {
            emit ExecutingMessage(_msgHashes[i], _ids[i]);
        }
    }

    /// An arbitrary log from the inbox address, to test that malformed logs are skipped, not misread.
    function emitRaw(bytes32[] calldata topics, bytes calldata data) external {
        require(topics.length <= 4, "at most 4 topics");
        assembly {
            let ptr := mload(0x40)
            calldatacopy(ptr, data.offset, data.length)
            let len := data.length
            let t := topics.offset
            switch topics.length
            case 0 { log0(ptr, len) }
            case 1 { log1(ptr, len, calldataload(t)) }
            case 2 { log2(ptr, len, calldataload(t), calldataload(add(t, 0x20))) }
            case 3 { log3(ptr, len, calldataload(t), calldataload(add(t, 0x20)), calldataload(add(t, 0x40))) }
            default {
                log4(ptr, len, calldataload(t), calldataload(add(t, 0x20)), calldataload(add(t, 0x40)), calldataload(add(t, 0x60)))
            }
        }
    }
}
