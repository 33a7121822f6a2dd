import CShaders
import CVulkan
import IFTCore

/// A compute pipeline for one shader with one set of specialization constants.
struct Pipeline {
    let handle: VkPipeline
    let layout: VkPipelineLayout
    let setLayout: VkDescriptorSetLayout
    let bindingCount: Int
    let name: String
}

/// Creates pipelines from the SPIR-V embedded in the binary (`CShaders`), cached by shader name and
/// specialization constants. Every pipeline has one descriptor set of storage buffers (a push
/// descriptor set where the device supports it) and 128 bytes of push constants.
final class PipelineCache {
    static let pushConstantBytes = 128

    private let ctx: DeviceContext
    private var modules: [String: VkShaderModule] = [:]
    private var setLayouts: [Int: VkDescriptorSetLayout] = [:]
    private var layouts: [Int: VkPipelineLayout] = [:]
    private var pipelines: [String: Pipeline] = [:]

    init(_ ctx: DeviceContext) { self.ctx = ctx }

    func destroy() {
        for p in pipelines.values { ctx.fn.destroyPipeline(ctx.handle, p.handle, nil) }
        for l in layouts.values { ctx.fn.destroyPipelineLayout(ctx.handle, l, nil) }
        for s in setLayouts.values { ctx.fn.destroyDescriptorSetLayout(ctx.handle, s, nil) }
        for m in modules.values { ctx.fn.destroyShaderModule(ctx.handle, m, nil) }
        pipelines.removeAll()
    }

    /// Names of all embedded shaders.
    static var embeddedShaderNames: [String] {
        var count = 0
        guard let table = ift_shader_table(&count) else { return [] }
        return (0..<count).map { String(cString: table[$0].name) }
    }

    private func module(_ name: String) throws -> VkShaderModule {
        if let m = modules[name] { return m }
        var count = 0
        guard let table = ift_shader_table(&count),
            let entry = (0..<count).map({ table[$0] }).first(where: { String(cString: $0.name) == name })
        else {
            throw IFTError.invalidArgument("no embedded shader named '\(name)' (run Tools/build-shaders.sh)")
        }
        var info = VkShaderModuleCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
        info.codeSize = entry.size
        info.pCode = entry.code
        var m: VkShaderModule?
        try check(ctx.fn.createShaderModule(ctx.handle, &info, nil, &m), "vkCreateShaderModule(\(name))")
        guard let m else { throw IFTError.vulkan(call: "vkCreateShaderModule", result: 0) }
        modules[name] = m
        return m
    }

    private func pipelineLayout(bindings: Int) throws -> (VkDescriptorSetLayout, VkPipelineLayout) {
        if let s = setLayouts[bindings], let l = layouts[bindings] { return (s, l) }
        var b = (0..<bindings).map { i -> VkDescriptorSetLayoutBinding in
            var x = VkDescriptorSetLayoutBinding()
            x.binding = UInt32(i)
            x.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            x.descriptorCount = 1
            x.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return x
        }
        var si = VkDescriptorSetLayoutCreateInfo()
        si.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
        if ctx.info.pushDescriptors {
            si.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR.rawValue
        }
        si.bindingCount = UInt32(bindings)
        var setLayout: VkDescriptorSetLayout?
        try b.withUnsafeMutableBufferPointer { bp in
            si.pBindings = UnsafePointer(bp.baseAddress)
            try check(ctx.fn.createDescriptorSetLayout(ctx.handle, &si, nil, &setLayout), "vkCreateDescriptorSetLayout")
        }
        guard let setLayout else { throw IFTError.vulkan(call: "vkCreateDescriptorSetLayout", result: 0) }
        var range = VkPushConstantRange()
        range.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
        range.offset = 0
        range.size = UInt32(Self.pushConstantBytes)
        var li = VkPipelineLayoutCreateInfo()
        li.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
        var layout: VkPipelineLayout?
        var sl: VkDescriptorSetLayout? = setLayout
        try withUnsafePointer(to: &sl) { slp in
            try withUnsafePointer(to: &range) { rp in
                li.setLayoutCount = 1
                li.pSetLayouts = slp
                li.pushConstantRangeCount = 1
                li.pPushConstantRanges = rp
                try check(ctx.fn.createPipelineLayout(ctx.handle, &li, nil, &layout), "vkCreatePipelineLayout")
            }
        }
        guard let layout else { throw IFTError.vulkan(call: "vkCreatePipelineLayout", result: 0) }
        setLayouts[bindings] = setLayout
        layouts[bindings] = layout
        return (setLayout, layout)
    }

    /// The pipeline for `shader` with specialization constants `constants` (constant_id i gets
    /// `constants[i]`, as 32-bit values) and `bindings` storage buffers.
    func pipeline(_ shader: String, bindings: Int, constants: [UInt32]) throws -> Pipeline {
        let key = shader + "/" + constants.map(String.init).joined(separator: ",")
        if let p = pipelines[key] { return p }
        let m = try module(shader)
        let (setLayout, layout) = try pipelineLayout(bindings: bindings)
        var entries = constants.indices.map { i -> VkSpecializationMapEntry in
            VkSpecializationMapEntry(constantID: UInt32(i), offset: UInt32(i * 4), size: 4)
        }
        var data = constants
        var pipeline: VkPipeline?
        try withCStrings(["main"]) { entryName in
            try entries.withUnsafeMutableBufferPointer { ep in
                try data.withUnsafeMutableBytes { dp in
                    var spec = VkSpecializationInfo()
                    spec.mapEntryCount = UInt32(ep.count)
                    spec.pMapEntries = UnsafePointer(ep.baseAddress)
                    spec.dataSize = dp.count
                    spec.pData = UnsafeRawPointer(dp.baseAddress)
                    try withUnsafePointer(to: &spec) { sp in
                        var stage = VkPipelineShaderStageCreateInfo()
                        stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
                        stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
                        stage.module = m
                        stage.pName = entryName[0]
                        stage.pSpecializationInfo = constants.isEmpty ? nil : sp
                        var ci = VkComputePipelineCreateInfo()
                        ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
                        ci.stage = stage
                        ci.layout = layout
                        try check(
                            ctx.fn.createComputePipelines(ctx.handle, nil, 1, &ci, nil, &pipeline),
                            "vkCreateComputePipelines(\(shader))")
                    }
                }
            }
        }
        guard let pipeline else { throw IFTError.vulkan(call: "vkCreateComputePipelines", result: 0) }
        let p = Pipeline(handle: pipeline, layout: layout, setLayout: setLayout, bindingCount: bindings, name: shader)
        pipelines[key] = p
        return p
    }
}
