import Cohort

// What each of this module's tape nodes computes, for the step's time by kind (`TapeProfile`,
// `cohort bench train`): one table here rather than a line in every node.

extension Conv2dNode { var kind: OpKind { .convolution } }
extension Conv2dKernelNode { var kind: OpKind { .convolution } }
extension GlobalAvgPoolNode { var kind: OpKind { .pooling } }
extension PoolNode { var kind: OpKind { .pooling } }
extension BatchNormNode { var kind: OpKind { .normalization } }
extension LayerNormNode { var kind: OpKind { .normalization } }
extension DropoutNode { var kind: OpKind { .elementwise } }
extension Int8LinearNode { var kind: OpKind { .linear } }
extension LinearNode { var kind: OpKind { .linear } }
extension BernoulliCrossEntropyNode { var kind: OpKind { .loss } }
extension CrossEntropyNode { var kind: OpKind { .loss } }
extension DistillationNode { var kind: OpKind { .loss } }
extension GaussianKLNode { var kind: OpKind { .loss } }
extension KLNode { var kind: OpKind { .loss } }
extension MeanSquaredErrorNode { var kind: OpKind { .loss } }
extension MixedCrossEntropyNode { var kind: OpKind { .loss } }
