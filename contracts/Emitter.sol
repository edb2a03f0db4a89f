// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Emits initiating messages: any log is one, so a Ping is as good as any.
contract Emitter {
    event Ping(uint256 indexed n, bytes data);

    function ping(uint256 n, bytes calldata data) external {
        emit Ping(n, data);
    }

    /// Many initiating messages in one transaction: Ping(start + i, data) for i < count.
    function pingMany(uint256 start, uint256 count, bytes calldata data) external {
        for (uint256 i = 0; i < count; i++) {
            emit Ping(start + i, data);
        }
    }
}
