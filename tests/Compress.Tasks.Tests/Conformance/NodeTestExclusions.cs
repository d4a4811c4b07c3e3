namespace Compress.Tasks.Tests.Conformance;

/// <summary>
/// The node tests of claimed ops that Compress does not run, each with what the test needs that Compress does not claim
/// (a dtype other than float32, an output the lowering drops, training mode …). Never "it fails": an excluded test is
/// still compiled, and <see cref="OnnxNodeTests.Excluded_node_test_is_rejected_at_build_time"/> checks that the build
/// refuses it with a CMP error rather than computing something else. docs/supported-ops.md and docs/conformance.md
/// list these reasons.
/// </summary>
public static class NodeTestExclusions
{
    /// <summary>Test name → the reason (what it needs that is outside the claim).</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["test_add_uint8"] = Dtype("uint8"),
        ["test_averagepool_3d_default"] = Pool3d,
        ["test_batchnorm_epsilon_training_mode"] = TrainingBatchNorm,
        ["test_batchnorm_example_training_mode"] = TrainingBatchNorm,
        ["test_cast_BFLOAT16_to_FLOAT"] = Dtype("bfloat16"),
        ["test_cast_DOUBLE_to_FLOAT"] = Dtype("double"),
        ["test_cast_DOUBLE_to_FLOAT16"] = Dtype("double"),
        ["test_cast_FLOAT16_to_DOUBLE"] = Dtype("float16"),
        ["test_cast_FLOAT16_to_FLOAT"] = Dtype("float16"),
        ["test_cast_FLOAT_to_BFLOAT16"] = Dtype("bfloat16"),
        ["test_cast_FLOAT_to_DOUBLE"] = Dtype("double"),
        ["test_cast_FLOAT_to_FLOAT16"] = Dtype("float16"),
        ["test_cast_FLOAT_to_STRING"] = Dtype("string"),
        ["test_cast_STRING_to_FLOAT"] = Dtype("string"),
        ["test_castlike_BFLOAT16_to_FLOAT_expanded"] = Dtype("bfloat16"),
        ["test_castlike_DOUBLE_to_FLOAT16_expanded"] = Dtype("double"),
        ["test_castlike_DOUBLE_to_FLOAT_expanded"] = Dtype("double"),
        ["test_castlike_FLOAT16_to_DOUBLE_expanded"] = Dtype("float16"),
        ["test_castlike_FLOAT16_to_FLOAT_expanded"] = Dtype("float16"),
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = Dtype("bfloat16"),
        ["test_castlike_FLOAT_to_DOUBLE_expanded"] = Dtype("double"),
        ["test_castlike_FLOAT_to_FLOAT16_expanded"] = Dtype("float16"),
        ["test_castlike_FLOAT_to_STRING_expanded"] = Dtype("string"),
        ["test_castlike_STRING_to_FLOAT_expanded"] = Dtype("string"),
        ["test_clip_default_int8_inbounds"] = Dtype("int8"),
        ["test_clip_default_int8_max"] = Dtype("int8"),
        ["test_clip_default_int8_min"] = Dtype("int8"),
        ["test_convtranspose_3d"] = ConvTranspose3d,
        ["test_div_uint8"] = Dtype("uint8"),
        ["test_dropout_default_mask"] = DropoutMask,
        ["test_dropout_default_mask_ratio"] = DropoutMask,
        ["test_edge_pad"] = Dtype("int32"),
        ["test_identity_opt"] = NotATensor("an optional"),
        ["test_identity_sequence"] = NotATensor("a sequence of tensors"),
        ["test_max_float16"] = Dtype("float16"),
        ["test_max_float64"] = Dtype("double"),
        ["test_max_int16"] = Dtype("int16"),
        ["test_max_int32"] = Dtype("int32"),
        ["test_max_int64"] = Dtype("int64"),
        ["test_max_int8"] = Dtype("int8"),
        ["test_max_uint16"] = Dtype("uint16"),
        ["test_max_uint32"] = Dtype("uint32"),
        ["test_max_uint64"] = Dtype("uint64"),
        ["test_max_uint8"] = Dtype("uint8"),
        ["test_maxpool_2d_uint8"] = Dtype("uint8"),
        ["test_maxpool_3d_default"] = Pool3d,
        ["test_maxpool_with_argmax_2d_precomputed_pads"] = PoolIndices,
        ["test_maxpool_with_argmax_2d_precomputed_strides"] = PoolIndices,
        ["test_min_float16"] = Dtype("float16"),
        ["test_min_float64"] = Dtype("double"),
        ["test_min_int16"] = Dtype("int16"),
        ["test_min_int32"] = Dtype("int32"),
        ["test_min_int64"] = Dtype("int64"),
        ["test_min_int8"] = Dtype("int8"),
        ["test_min_uint16"] = Dtype("uint16"),
        ["test_min_uint32"] = Dtype("uint32"),
        ["test_min_uint64"] = Dtype("uint64"),
        ["test_min_uint8"] = Dtype("uint8"),
        ["test_mul_uint8"] = Dtype("uint8"),
        ["test_pow_types_float"] = IntegerPowInput,
        ["test_pow_types_float32_int32"] = IntegerPowInput,
        ["test_pow_types_float32_int64"] = IntegerPowInput,
        ["test_pow_types_float32_uint32"] = IntegerPowInput,
        ["test_pow_types_float32_uint64"] = IntegerPowInput,
        ["test_pow_types_int"] = IntegerPowInput,
        ["test_pow_types_int32_float32"] = IntegerPowInput,
        ["test_pow_types_int32_int32"] = IntegerPowInput,
        ["test_pow_types_int64_float32"] = IntegerPowInput,
        ["test_pow_types_int64_int64"] = IntegerPowInput,
        ["test_reflect_pad"] = Dtype("int32"),
        ["test_resize_downsample_scales_cubic"] = ResizeCubic,
        ["test_resize_downsample_scales_cubic_A_n0p5_exclude_outside"] = ResizeCubic,
        ["test_resize_downsample_scales_cubic_align_corners"] = ResizeCubic,
        ["test_resize_downsample_scales_linear_align_corners"] = ResizeAlignCornersFractional,
        ["test_resize_downsample_sizes_cubic"] = ResizeCubic,
        ["test_resize_tf_crop_and_resize"] = ResizeCropAndResize,
        ["test_resize_upsample_scales_cubic"] = ResizeCubic,
        ["test_resize_upsample_scales_cubic_A_n0p5_exclude_outside"] = ResizeCubic,
        ["test_resize_upsample_scales_cubic_align_corners"] = ResizeCubic,
        ["test_resize_upsample_scales_cubic_asymmetric"] = ResizeCubic,
        ["test_resize_upsample_sizes_cubic"] = ResizeCubic,
        ["test_sub_uint8"] = Dtype("uint8"),
        ["test_training_dropout"] = TrainingDropout,
        ["test_training_dropout_default"] = TrainingDropout,
        ["test_training_dropout_default_mask"] = DropoutMask,
        ["test_training_dropout_mask"] = DropoutMask,
        ["test_training_dropout_zero_ratio_mask"] = DropoutMask,
        ["test_where_long_example"] = Dtype("int64"),
    };

    /// <summary>Compress compiles float32 models: graph inputs and outputs are float32 (CMP009), so is every kernel.</summary>
    static string Dtype(string type) =>
        $"{type} tensors; Compress compiles float32 models (float32 graph inputs and outputs, float32 kernels)";

    const string DropoutMask =
        "the mask output (bool) is a graph output; inference Dropout is the identity and its mask is not computed";

    const string TrainingDropout =
        "training_mode = true with ratio > 0 drops random elements; Compress compiles inference graphs";

    const string TrainingBatchNorm =
        "training_mode = 1 (batch statistics and running mean/var outputs); Compress compiles inference BatchNormalization";

    const string Pool3d = "a 3-D window over [N, C, D, H, W]; the claim is 1-D and 2-D pooling";

    const string ConvTranspose3d = "a 3-D ConvTranspose over [N, C, D, H, W]; the claim is 1-D and 2-D ConvTranspose";

    const string ResizeCubic = "mode 'cubic' (bicubic interpolation); the claim is modes nearest and linear";

    const string ResizeCropAndResize =
        "coordinate_transformation_mode 'tf_crop_and_resize' (a roi crop with extrapolation_value); the claim is half_pixel, pytorch_half_pixel, align_corners and asymmetric";

    const string ResizeAlignCornersFractional =
        "align_corners with a scale whose input·scale is not whole (4·0.6 = 2.4): the ONNX reference maps coordinates by input·scale, ONNX Runtime by the output size; the two disagree (3.142857 against 4), so the build refuses the form";

    const string PoolIndices = "the Indices output (int64) is a graph output; the lowering computes the pooled values only";

    const string IntegerPowInput =
        "an integer tensor as a graph input (the base or a run-time exponent); graph inputs are float32 (a constant exponent of any numeric type is supported)";

    static string NotATensor(string type) => $"the input is {type}, not a tensor; Compress compiles tensor graphs";
}
