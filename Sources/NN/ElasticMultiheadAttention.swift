import TensorEngine

/// Multi-head attention whose Q, K, V width (`qkvDim`) is fixed and whose input and output
/// widths and head count are elastic (hat-reference.md §2).
///
/// The packed in-projection is [3·qkv, inSuper]: Q, K, V are row blocks [0, qkv), [qkv, 2qkv),
/// [2qkv, 3qkv), read on the first d input columns. The head count changes the head size
/// (qkv / heads), not the weights. The output projection is [outSuper, qkv] → first d rows.
public final class ElasticMultiheadAttention: Module {
    public let qkvDim: Int
    /// [3·qkv, inSuper]
    public let inProjWeight: Tensor
    /// [3·qkv]
    public let inProjBias: Tensor
    /// [outSuper, qkv]
    public let outProj: ElasticLinear

    public init(inputDim: Int, outputDim: Int, qkvDim: Int, rng: inout RandomGenerator) {
        self.qkvDim = qkvDim
        // fairseq initializes the packed projection like three separate [qkv, d] matrices.
        inProjWeight = concatenate((0..<3).map { _ in xavierUniform([qkvDim, inputDim], rng: &rng) }, axis: 0)
            .detached().requiringGrad()
        inProjBias = Tensor.zeros([3 * qkvDim]).requiringGrad()
        outProj = ElasticLinear(inFeatures: qkvDim, outFeatures: outputDim, rng: &rng)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        [("in_proj_weight", inProjWeight), ("in_proj_bias", inProjBias)] + prefixed("out_proj", outProj.namedParameters())
    }

    /// Rows [block·qkv, (block+count)·qkv) of the in-projection, on the first `columns` inputs.
    public func projection(block: Int, count: Int, columns: Int) -> (weight: Tensor, bias: Tensor) {
        (
            inProjWeight.narrow(0, start: block * qkvDim, length: count * qkvDim).narrow(1, start: 0, length: columns),
            inProjBias.narrow(0, start: block * qkvDim, length: count * qkvDim)
        )
    }

    /// Self-attention: x [B, T, d] → [B, T, d].
    public func selfAttention(_ x: Tensor, heads: Int, mask: AttentionMask, dropout: Float, context: ForwardContext) -> Tensor {
        let d = x.shape[2]
        let (w, b) = projection(block: 0, count: 3, columns: d)
        let qkv = linear(x, weight: w, bias: b)  // [B, T, 3·qkv]
        return attend(
            query: qkv.narrow(-1, start: 0, length: qkvDim),
            key: qkv.narrow(-1, start: qkvDim, length: qkvDim),
            value: qkv.narrow(-1, start: 2 * qkvDim, length: qkvDim),
            heads: heads, mask: mask, dropout: dropout, outputDim: d, context: context)
    }

    /// Encoder-decoder attention: queries from x [B, T, dq], keys and values from memory [B, S, dk] → [B, T, dq].
    public func crossAttention(
        _ x: Tensor, memory: Tensor, heads: Int, mask: AttentionMask, dropout: Float,
        context: ForwardContext
    ) -> Tensor {
        let (keys, values) = keyValues(memory)
        return attend(
            query: project(query: x), key: keys, value: values,
            heads: heads, mask: mask, dropout: dropout, outputDim: x.shape[2], context: context)
    }

    /// Q projection of decoder states [B, T, dq] → [B, T, qkv].
    public func project(query x: Tensor) -> Tensor {
        let (w, b) = projection(block: 0, count: 1, columns: x.shape[2])
        return linear(x, weight: w, bias: b)
    }

    /// K and V projections of encoder memory [B, S, dk] → two [B, S, qkv] views of one GEMM.
    public func keyValues(_ memory: Tensor) -> (keys: Tensor, values: Tensor) {
        let (w, b) = projection(block: 1, count: 2, columns: memory.shape[2])
        let kv = linear(memory, weight: w, bias: b)  // [B, S, 2·qkv]
        return (kv.narrow(-1, start: 0, length: qkvDim), kv.narrow(-1, start: qkvDim, length: qkvDim))
    }

    /// softmax(Q Kᵀ / √h) V over `heads` heads, then the output projection to `outputDim`.
    ///   query [B, T, qkv], key/value [B, S, qkv] (any views with unit last stride)
    /// Heads are column blocks of these views, read in place by `multiHeadAttention`.
    public func attend(
        query: Tensor, key: Tensor, value: Tensor, heads: Int, mask: AttentionMask,
        dropout: Float, outputDim: Int, context: ForwardContext
    ) -> Tensor {
        precondition(qkvDim % heads == 0, "attention: \(heads) heads do not divide qkv-dim \(qkvDim)")
        let merged = multiHeadAttention(
            query: query, key: key, value: value, heads: heads, mask: mask,
            dropout: context.training ? dropout : 0, rng: &context.rng)  // [B, T, qkv]
        return outProj(merged, outFeatures: outputDim)
    }
}
