import Model
import NN
import TensorEngine

/// Step-by-step decoding of one SubTransformer with cached states (hat-reference.md §6):
/// - self-attention keys and values of every decoded position, per layer, grow by one row per step;
/// - cross-attention keys and values of the (concatenated, for arbitrary attention §3) encoder
///   outputs are computed once per sentence and layer.
///
/// Rows are hypotheses (sentence × beam); `reorder(rows:)` follows beam search's choices.
/// Everything runs without a tape.
public final class IncrementalDecoder {
    public let model: SuperTransformer
    public let config: SubTransformerConfig
    /// Rows decoded in parallel (hypotheses).
    public private(set) var rows: Int
    /// Tokens decoded so far (the next step is position `length`).
    public private(set) var length = 0
    public let maxLength: Int
    let qkv: Int
    /// Per decoder layer: [rows, maxLength, qkv] buffers for self-attention keys and values.
    var selfKeys: [TensorStorage]
    var selfValues: [TensorStorage]
    /// Per decoder layer: a second buffer of each cache's size that `reorder` gathers into.
    var spareKeys: [TensorStorage?]
    var spareValues: [TensorStorage?]
    /// Per decoder layer: [rows, S', qkv] cross-attention keys and values, and S' padding flags per row.
    var crossKeys: [Tensor]
    var crossValues: [Tensor]
    var crossPadding: [[Bool]]
    /// The sentence each row belongs to: the cross-attention keys and values of a row are its sentence's.
    var rowSentence: [Int]
    let context = ForwardContext.evaluation()

    /// - Parameters:
    ///   - encoderOutput: the encoder run on B sentences.
    ///   - rowsPerSentence: hypotheses per sentence (the beam); row r belongs to sentence r / rowsPerSentence.
    ///   - maxLength: the most steps that will be taken.
    public init(model: SuperTransformer, config: SubTransformerConfig, encoderOutput: EncoderOutput,
                rowsPerSentence: Int, maxLength: Int) {
        self.model = model
        self.config = config
        self.maxLength = maxLength
        qkv = model.space.qkvDim
        let sentences = encoderOutput.layerOutputs[0].shape[0]
        rows = sentences * rowsPerSentence
        let rowOrigin = (0..<rows).map { $0 / rowsPerSentence }
        rowSentence = rowOrigin
        selfKeys = []
        selfValues = []
        spareKeys = Array(repeating: nil, count: config.decoderLayerNum)
        spareValues = Array(repeating: nil, count: config.decoderLayerNum)
        crossKeys = []
        crossValues = []
        crossPadding = []
        withNoGrad {
            for i in 0..<config.decoderLayerNum {
                let memory = encoderOutput.memory(lastLayers: config.attendedEncoderLayers(decoderLayer: i))
                let (k, v) = model.decoderLayers[i].encoderAttention.keyValues(memory.states)  // [B, S', qkv]
                crossKeys.append(gatherRows(k, rowOrigin))
                crossValues.append(gatherRows(v, rowOrigin))
                let s = memory.states.shape[1]
                crossPadding.append(rowOrigin.flatMap { memory.padding[($0 * s)..<(($0 + 1) * s)] })
                selfKeys.append(TensorStorage(count: rows * maxLength * qkv))
                selfValues.append(TensorStorage(count: rows * maxLength * qkv))
            }
        }
    }

    /// Decodes one position: `tokens` holds each row's previous token (eos at the first step).
    /// Returns log-probabilities [rows, V].
    public func step(_ tokens: [Int32]) -> Tensor {
        precondition(tokens.count == rows, "step: \(tokens.count) tokens for \(rows) rows")
        precondition(length < maxLength, "step: already decoded \(length) of at most \(maxLength) positions")
        return withNoGrad {
            let d = config.decoderEmbedDim
            var x = model.embed(TokenBatch(tokens: tokens, batchSize: rows, length: 1), table: model.decoderEmbedding,
                                positions: model.decoderPositions, width: d, dropout: 0, context: context, startingAt: length)
            for i in 0..<config.decoderLayerNum {
                let layer = model.decoderLayers[i]
                let (w, b) = layer.selfAttention.projection(block: 0, count: 3, columns: d)
                let projected = linear(x, weight: w, bias: b)  // [rows, 1, 3·qkv]
                append(projected, layer: i)
                let keys = cacheView(selfKeys[i]), values = cacheView(selfValues[i])
                let a = layer.selfAttention.attend(query: projected.narrow(-1, start: 0, length: qkv), key: keys, value: values,
                                                   heads: config.decoderSelfAttentionHeads[i], mask: AttentionMask(),
                                                   dropout: 0, outputDim: d, context: context)
                var h = layer.selfAttentionLayerNorm(x + a)
                let c = layer.encoderAttention.attend(query: layer.encoderAttention.project(query: h), key: crossKeys[i],
                                                      value: crossValues[i], heads: config.decoderCrossAttentionHeads[i],
                                                      mask: AttentionMask(keyPadding: crossPadding[i]), dropout: 0,
                                                      outputDim: d, context: context)
                h = layer.encoderAttentionLayerNorm(h + c)
                let f = layer.fc2(relu(layer.fc1(h, outFeatures: config.decoderFFNDims[i])), outFeatures: d)
                x = layer.finalLayerNorm(h + f)
            }
            length += 1
            return logSoftmax(model.outputProjection(x).reshaped([rows, -1]))
        }
    }

    /// Keeps row `rows[i]` as the new row i (beam search's selection; rows may repeat or vanish).
    public func reorder(rows newRows: [Int]) {
        precondition(newRows.allSatisfy { $0 >= 0 && $0 < rows }, "reorder: row out of range")
        if newRows.count == rows && newRows.elementsEqual(0..<rows) { return }  // nothing moves
        // Cross-attention states depend only on the sentence: when every row keeps its sentence
        // (beam search's usual choice, within a sentence's beam) they stay as they are.
        let newSentences = newRows.map { rowSentence[$0] }
        if newSentences != rowSentence {
            crossKeys = crossKeys.map { gatherRows($0, newRows) }
            crossValues = crossValues.map { gatherRows($0, newRows) }
            crossPadding = crossPadding.map { flags in
                let s = flags.count / rows
                return newRows.flatMap { flags[($0 * s)..<(($0 + 1) * s)] }
            }
            rowSentence = newSentences
        }
        let block = maxLength * qkv, used = length * qkv
        // Into the spare buffer when it is large enough (rows rarely grow); the old cache becomes the spare.
        func gather(_ storage: TensorStorage, _ spare: inout TensorStorage?) -> TensorStorage {
            let out = spare.flatMap { $0.count >= newRows.count * block ? $0 : nil } ?? TensorStorage(count: newRows.count * block)
            for (i, r) in newRows.enumerated() { (out.data + i * block).update(from: storage.data + r * block, count: used) }
            spare = storage
            return out
        }
        for i in selfKeys.indices {
            selfKeys[i] = gather(selfKeys[i], &spareKeys[i])
            selfValues[i] = gather(selfValues[i], &spareValues[i])
        }
        rows = newRows.count
    }

    /// Writes this step's keys and values (columns [qkv, 3·qkv) of the projection) into the caches.
    private func append(_ projected: Tensor, layer i: Int) {
        let p = projected.dataPointer  // contiguous [rows, 1, 3·qkv]
        let block = maxLength * qkv
        for r in 0..<rows {
            (selfKeys[i].data + r * block + length * qkv).update(from: p + r * 3 * qkv + qkv, count: qkv)
            (selfValues[i].data + r * block + length * qkv).update(from: p + r * 3 * qkv + 2 * qkv, count: qkv)
        }
    }

    /// The first `length + 1` cached positions as a strided [rows, t, qkv] view (no copy).
    private func cacheView(_ storage: TensorStorage) -> Tensor {
        Tensor(storage: storage, shape: [rows, length + 1, qkv], strides: [maxLength * qkv, qkv, 1])
    }
}

/// Rows of a [N, ...] tensor in the order `rows` (a copy).
func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let x = t.contiguous()
    let inner = x.count / Swift.max(x.shape[0], 1)
    let out = TensorStorage(count: rows.count * inner)
    for (i, r) in rows.enumerated() { (out.data + i * inner).update(from: x.dataPointer + r * inner, count: inner) }
    return Tensor(storage: out, shape: [rows.count] + Array(x.shape.dropFirst()), strides: contiguousStrides([rows.count] + Array(x.shape.dropFirst())))
}
