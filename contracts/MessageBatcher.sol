// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

struct Identifier {
    address origin;
    uint256 blockNumber;
    uint256 logIndex;
    uint256 timestamp;
    uint256 chainId;
}

interface ICrossL2Inbox {
    function validateMessage(Identifier calldata _id, bytes32 _msgHash) external;
}

/// Executes many messages in one transaction, as an application's entrypoint would: each is the inbox's own
/// validateMessage, so each needs its entries in the transaction's access list like any other. For tests and
/// benchmarks with hundreds of messages per block.
contract MessageBatcher {
    ICrossL2Inbox internal constant INBOX = ICrossL2Inbox(0x4200000000000000000000000000000000000022);

    function validateMessages(Identifier[] calldata _ids, bytes32[] calldata _msgHashes) external {
        require(_ids.length == _msgHashes.length, "length mismatch");
        for (uint256 i = 0; i < _ids.length; i++) {
            INBOX.validateMessage(_ids[i], _msgHashes[i]);
        }
    }
}
